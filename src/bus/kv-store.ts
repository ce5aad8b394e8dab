// The bus's KV store with Consul's semantics: flags, check-and-set, locks held by sessions with lock-delay,
// tombstoned deletes, transactions. Reads come from memory; a write resolves once its log record is durable.
import type { KvDeleteOptions, KvEntry, KvSetOptions, KvStore, TxnKvOp, TxnResult } from './kv-types.js';
import type { BusContext } from './bus-context.js';
import type { BusChange } from './bus-state.js';
import type { KvOpOutcome } from './txn.js';
import { createKvOverlay, indexOfKey, indexOfPrefix, listEntries, rollupKeys } from './kv-view.js';
import { lockDelayMessage, refusalMessage, returnsValue, runKvOp } from './txn.js';
import { badBusInput, busUnavailable, consulRpcError } from './bus-errors.js';

/** The largest flags value kept exactly: Consul's flags are uint64, JavaScript numbers are exact up to 2^53 - 1. */
export const MAX_KV_FLAGS = Number.MAX_SAFE_INTEGER;

function flagsProblem(flags: number | undefined): string | undefined {
  if (flags === undefined || (Number.isSafeInteger(flags) && flags >= 0)) return undefined;
  return `flags: expected an integer from 0 to ${MAX_KV_FLAGS} (machineroom keeps flags exactly up to 2^53 - 1), got ${flags}`;
}

function checkSetOptions(opts: KvSetOptions): void {
  const problem = flagsProblem(opts.flags);
  if (problem) throw badBusInput(problem);
  const given = (['cas', 'acquire', 'release'] as const).filter((k) => opts[k] !== undefined);
  if (given.length > 1) throw badBusInput(`Conflicting flags: ${given.map((k) => `${k}=${opts[k]}`).join('&')}`);
  if (opts.cas !== undefined && !(Number.isSafeInteger(opts.cas) && opts.cas >= 0)) throw badBusInput(`cas: expected an index (an integer >= 0), got ${opts.cas}`);
}

/** Creates the KV store over a bus context. */
export function createKvStore(ctx: BusContext): KvStore {
  const { state } = ctx;

  const lockDelayed = (key: string): boolean => {
    const until = ctx.lockDelays.get(key);
    if (until === undefined) return false;
    if (ctx.now() < until) return true;
    ctx.lockDelays.delete(key);
    return false;
  };

  /** Runs verbs on an overlay with the index the run would take; nothing is visible until persist(). */
  const evaluate = (ops: TxnKvOp[]): { outcomes: KvOpOutcome[]; change: Pick<BusChange, 'kvPut' | 'kvDelete'>; index: number } => {
    const index = ctx.clock.current() + 1;
    const view = createKvOverlay(state);
    const env = { index, sessions: state.sessions };
    const outcomes = ops.map((op) => runKvOp(view, op, env));
    return { outcomes, change: view.change(), index };
  };

  /** Commits what evaluate() produced (same tick), or — when nothing changes — waits until the answer is durable. */
  const persist = (index: number, change: Pick<BusChange, 'kvPut' | 'kvDelete'>, apply: boolean): Promise<void> => {
    if (!apply || (!change.kvPut && !change.kvDelete)) return ctx.settle();
    const taken = ctx.clock.next();
    if (taken !== index) return Promise.reject(busUnavailable(`bus index moved during a KV write (expected ${index}, took ${taken})`));
    return ctx.commit({ index, ...change });
  };

  const runOne = async (op: TxnKvOp): Promise<boolean> => {
    const { outcomes, change, index } = evaluate([op]);
    const outcome = outcomes[0]!;
    if (outcome.kind === 'error') throw consulRpcError(outcome.message);
    await persist(index, change, outcome.kind === 'ok');
    return outcome.kind === 'ok';
  };

  return {
    get: (key) => state.kv.get(key),
    list: (prefix) => listEntries(state.kv.values(), prefix),
    keys: (prefix, separator) => rollupKeys(listEntries(state.kv.values(), prefix), prefix, separator),
    indexOfKey: (key) => indexOfKey(state, key),
    indexOfPrefix: (prefix) => indexOfPrefix(state, prefix),

    async set(key, value, opts = {}) {
      checkSetOptions(opts);
      const base = { Key: key, Value: Buffer.from(value), Flags: opts.flags ?? 0 };
      if (opts.acquire !== undefined) {
        // Consul checks lock-delay before the session, and refuses quietly (false).
        if (lockDelayed(key)) {
          await ctx.settle();
          return false;
        }
        return runOne({ ...base, Verb: 'lock', Session: opts.acquire });
      }
      if (opts.release !== undefined) return runOne({ ...base, Verb: 'unlock', Session: opts.release });
      if (opts.cas !== undefined) return runOne({ ...base, Verb: 'cas', Index: opts.cas });
      return runOne({ ...base, Verb: 'set' });
    },

    async delete(key, opts: KvDeleteOptions = {}) {
      if (opts.recurse && opts.cas !== undefined) throw badBusInput(`Conflicting flags: cas=${opts.cas}&recurse`);
      if (opts.cas !== undefined) return runOne({ Verb: 'delete-cas', Key: key, Index: opts.cas });
      return runOne({ Verb: opts.recurse ? 'delete-tree' : 'delete', Key: key });
    },

    async txn(ops): Promise<TxnResult> {
      const early: { OpIndex: number; What: string }[] = [];
      ops.forEach((op, i) => {
        const problem = flagsProblem(op.Flags);
        if (problem) early.push({ OpIndex: i, What: problem });
        else if (op.Verb === 'lock' && lockDelayed(op.Key)) early.push({ OpIndex: i, What: lockDelayMessage(op.Key) });
      });
      if (early.length > 0) return { ok: false, errors: early };
      const { outcomes, change, index } = evaluate(ops.map((op) => ({ ...op, Value: op.Value === undefined ? undefined : Buffer.from(op.Value) })));
      const errors: { OpIndex: number; What: string }[] = [];
      outcomes.forEach((o, i) => {
        if (o.kind === 'error') errors.push({ OpIndex: i, What: o.message });
        else if (o.kind === 'refused') errors.push({ OpIndex: i, What: refusalMessage(ops[i]!) });
      });
      if (errors.length > 0) {
        await ctx.settle();
        return { ok: false, errors };
      }
      const results: KvEntry[] = [];
      outcomes.forEach((o, i) => {
        if (o.kind !== 'ok') return;
        const keepValue = returnsValue(ops[i]!.Verb);
        for (const e of o.entries) results.push(keepValue ? { ...e } : { ...e, Value: Buffer.alloc(0) });
      });
      await persist(index, change, true);
      return { ok: true, results };
    },
  };
}
