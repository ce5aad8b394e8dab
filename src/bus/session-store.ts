// Consul sessions: TTLs (invalidated after up to 2×TTL, as Consul's servers do), linked health checks, and what
// invalidation does to the keys a session holds — released or deleted, then locked out for the lock-delay.
import { randomUUID } from 'node:crypto';
import type { Session, SessionInput, SessionStore } from './kv-types.js';
import type { BusContext } from './bus-context.js';
import type { BusChange } from './bus-state.js';
import type { StoreChange } from './types.js';
import { clampIndex, compareKeys } from './kv-view.js';
import { formatGoDuration, parseGoDuration } from './go-duration.js';
import { badBusInput, consulRpcError } from './bus-errors.js';
import { createLogger } from '../log/index.js';

const log = createLogger('bus');

/** Consul's session_ttl_min default. */
export const DEFAULT_SESSION_TTL_MIN_MS = 10_000;
/** Consul's SessionTTLMax. */
export const SESSION_TTL_MAX_MS = 24 * 3_600_000;
/** Consul's SessionTTLMultiplier: a session is invalidated only after twice its TTL without a renew. */
export const SESSION_TTL_MULTIPLIER = 2;
/** Consul's default lock-delay. */
export const DEFAULT_LOCK_DELAY_NS = 15e9;
/** Consul's MaxLockDelay: longer lock-delays are cut to this when applied. */
export const MAX_LOCK_DELAY_MS = 60_000;
/** The node check sessions link by default. There is no Serf here, so when it is not registered it counts as passing. */
export const SERF_CHECK_ID = 'serfHealth';

/** The session store plus its lifecycle inside the bus data. */
export interface SessionRuntime extends SessionStore {
  /** Restarts TTL timers (a fresh TTL, as after a Consul leader change) and watches linked checks. */
  start(): void;
  /** Stops timers and the check watch. */
  stop(): void;
  /** Resolves when background invalidations (TTL, checks) have finished. */
  idle(): Promise<void>;
}

/** Parses LockDelay as Consul's session API does: Go duration text, or a number — seconds below 1000, else nanoseconds. */
export function parseLockDelayNs(value: string | number | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LOCK_DELAY_NS;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw badBusInput(`LockDelay: expected a duration like "15s", got ${value}`);
    return value < 1000 ? value * 1e9 : value;
  }
  const parsed = parseGoDuration(value);
  if ('error' in parsed || parsed.ns < 0) throw badBusInput(`LockDelay: expected a duration like "15s", got ${JSON.stringify(value)}`);
  return parsed.ns;
}

/** Milliseconds of a stored session TTL ("" or "0s": none). */
function ttlMsOf(session: Session): number {
  if (!session.TTL) return 0;
  const parsed = parseGoDuration(session.TTL);
  return 'error' in parsed ? 0 : parsed.ns / 1e6;
}

/** Creates the session store over a bus context; `ttlMinMs` is Consul's session_ttl_min. */
export function createSessionStore(ctx: BusContext, opts: { ttlMinMs?: number } = {}): SessionRuntime {
  const { state, store } = ctx;
  const ttlMinMs = opts.ttlMinMs ?? DEFAULT_SESSION_TTL_MIN_MS;
  const timers = new Map<string, { handle: unknown; deadline: number }>();
  const background = new Set<Promise<void>>();
  let unsubscribe: (() => void) | undefined;
  let stopped = false;

  const disarm = (id: string): void => {
    const t = timers.get(id);
    if (t) ctx.timers.clearTimeout(t.handle);
    timers.delete(id);
  };

  const schedule = (id: string, deadline: number): void => {
    const handle = ctx.timers.setTimeout(() => onTimer(id), Math.max(0, deadline - ctx.now()));
    timers.set(id, { handle, deadline });
  };

  const arm = (session: Session): void => {
    disarm(session.ID);
    const ttlMs = ttlMsOf(session);
    if (ttlMs > 0 && !stopped) schedule(session.ID, ctx.now() + ttlMs * SESSION_TTL_MULTIPLIER);
  };

  const track = (p: Promise<void>): void => {
    const tracked = p.catch((err: unknown) => log.error('session invalidation was not saved', err)).finally(() => background.delete(tracked));
    background.add(tracked);
  };

  /** Removes a session; its locks are released or its keys deleted (behavior), each locked out for the lock-delay. */
  const invalidate = (id: string): Promise<void> => {
    const session = state.sessions.get(id);
    if (!session) return ctx.settle();
    disarm(id);
    const index = ctx.clock.next();
    const held = [...(state.locks.get(id) ?? [])].sort(compareKeys);
    const change: Omit<BusChange, 'at'> = { index, sessionDelete: [id] };
    if (held.length > 0) {
      if (session.Behavior === 'delete') change.kvDelete = held;
      else {
        change.kvPut = held.map((key) => {
          const { Session: _released, ...rest } = state.kv.get(key)!;
          return { ...rest, ModifyIndex: index };
        });
      }
    }
    const delayMs = Math.min(session.LockDelay / 1e6, MAX_LOCK_DELAY_MS);
    if (delayMs > 0) {
      const until = ctx.now() + delayMs;
      for (const key of held) ctx.lockDelays.set(key, until);
    }
    return ctx.commit(change);
  };

  const onTimer = (id: string): void => {
    const t = timers.get(id);
    if (!t || stopped) return;
    if (ctx.now() < t.deadline) return schedule(id, t.deadline);
    timers.delete(id);
    track(invalidate(id));
  };

  const linkedTo = (session: Session, node: string, checkId: string): boolean =>
    session.Node === node && (session.NodeChecks.includes(checkId) || (session.ServiceChecks ?? []).some((c) => c.ID === checkId));

  const onStoreChange = (change: StoreChange): void => {
    let doomed: string[] = [];
    if (change.kind === 'check' && (change.op === 'delete' || change.check.Status === 'critical')) {
      doomed = [...state.sessions.values()].filter((s) => linkedTo(s, change.check.Node, change.check.CheckID)).map((s) => s.ID);
    } else if (change.kind === 'node' && change.op === 'delete') {
      doomed = [...state.sessions.values()].filter((s) => s.Node === change.node).map((s) => s.ID);
    }
    // After the store's own write has finished: invalidation is a write of ours.
    if (doomed.length > 0) queueMicrotask(() => doomed.forEach((id) => track(invalidate(id))));
  };

  const checkProblem = (node: string, checkId: string): string | undefined => {
    const check = store.check(checkId);
    if (!check || check.Node !== node) return checkId === SERF_CHECK_ID ? undefined : `Missing check '${checkId}' registration`;
    return check.Status === 'critical' ? `Check '${checkId}' is in critical state` : undefined;
  };

  const validateTtl = (ttl: string): void => {
    if (ttl === '') return;
    const parsed = parseGoDuration(ttl);
    if ('error' in parsed) throw consulRpcError(`Session TTL '${ttl}' invalid: ${parsed.error}`);
    const ms = parsed.ns / 1e6;
    if (parsed.ns !== 0 && (ms < ttlMinMs || ms > SESSION_TTL_MAX_MS)) {
      // Consul prints the TTL with %d of a time.Duration: nanoseconds.
      throw consulRpcError(`Invalid Session TTL '${parsed.ns}', must be between [${formatGoDuration(ttlMinMs * 1e6)}=${formatGoDuration(SESSION_TTL_MAX_MS * 1e6)}]`);
    }
  };

  const sorted = (sessions: Iterable<Session>): Session[] => [...sessions].sort((a, b) => compareKeys(a.ID, b.ID)).map((s) => ({ ...s }));

  return {
    async create(input: SessionInput) {
      const behavior = (input.Behavior || 'release') as string;
      if (behavior !== 'release' && behavior !== 'delete') throw consulRpcError(`Invalid Behavior setting '${behavior}'`);
      const ttl = input.TTL ?? '';
      validateTtl(ttl);
      const lockDelay = parseLockDelayNs(input.LockDelay);
      const node = input.Node || store.nodeName;
      if (!store.node(node)) throw consulRpcError('Missing node registration');
      const nodeChecks = [...(input.NodeChecks ?? input.Checks ?? [SERF_CHECK_ID])];
      const serviceChecks = input.ServiceChecks && input.ServiceChecks.length > 0 ? input.ServiceChecks.map((c) => ({ ...c })) : null;
      for (const id of [...nodeChecks, ...(serviceChecks ?? []).map((c) => c.ID)]) {
        const problem = checkProblem(node, id);
        if (problem) throw consulRpcError(problem);
      }
      let id = randomUUID();
      while (state.sessions.has(id)) id = randomUUID();
      const index = ctx.clock.next();
      const session: Session = {
        ID: id,
        Name: input.Name ?? '',
        Node: node,
        LockDelay: lockDelay,
        Behavior: behavior,
        TTL: ttl,
        NodeChecks: nodeChecks,
        ServiceChecks: serviceChecks,
        CreateIndex: index,
        ModifyIndex: index,
      };
      const durable = ctx.commit({ index, sessionPut: [session] });
      if (state.sessions.has(id)) arm(session);
      await durable;
      return { ...session };
    },
    async destroy(id) {
      const existed = state.sessions.has(id);
      await invalidate(id);
      return existed;
    },
    async renew(id) {
      const session = state.sessions.get(id);
      if (!session) return undefined;
      arm(session);
      return { ...session };
    },
    info: (id) => {
      const s = state.sessions.get(id);
      return s ? { ...s } : undefined;
    },
    list: () => sorted(state.sessions.values()),
    node: (node) => sorted([...state.sessions.values()].filter((s) => s.Node === node)),
    index: () => clampIndex(state.sessionsIndex),
    start() {
      stopped = false;
      for (const s of state.sessions.values()) arm(s);
      unsubscribe ??= store.subscribe(onStoreChange);
    },
    stop() {
      stopped = true;
      unsubscribe?.();
      unsubscribe = undefined;
      for (const id of [...timers.keys()]) disarm(id);
    },
    async idle() {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}
