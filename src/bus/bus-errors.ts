// The typed errors the bus's data layer raises, worded as Consul words them so the HTTP layer can pass them through.
import { MachineroomError } from '../errors/index.js';

/**
 * An error Consul's servers return from an RPC (the HTTP API answers 500 with the message as a text body, and
 * clients such as patroni match on its words, e.g. "Invalid Session TTL", "invalid session"). Its code is
 * ERR_BAD_REQUEST because the caller sent something wrong; `details.consulStatus` says Consul answers 500.
 */
export function consulRpcError(message: string): MachineroomError {
  return new MachineroomError('ERR_BAD_REQUEST', message, { details: { consulStatus: 500 } });
}

/** Whether an error is one Consul answers with HTTP 500 and its message as the body (see consulRpcError). */
export function isConsulRpcError(err: unknown): err is MachineroomError {
  return err instanceof MachineroomError && (err.details as { consulStatus?: unknown } | undefined)?.consulStatus === 500;
}

/** A caller passed a value the bus cannot store (bad flags, conflicting options). */
export function badBusInput(message: string): MachineroomError {
  return new MachineroomError('ERR_BAD_REQUEST', message);
}

/** A write arrived after close(), or the write-ahead log failed and the bus refuses further writes (fail-stop). */
export function busUnavailable(message: string, cause?: unknown): MachineroomError {
  return new MachineroomError('ERR_INTERNAL', message, cause === undefined ? {} : { cause });
}
