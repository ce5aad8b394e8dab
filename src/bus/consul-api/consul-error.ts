// The API's typed error: a MachineroomError that carries the HTTP status and text Consul answers with.
import { MachineroomError, httpStatusOf } from '../../errors/index.js';
import type { ErrorCode } from '../../errors/index.js';

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'ERR_BAD_REQUEST',
  403: 'ERR_FORBIDDEN',
  404: 'ERR_NOT_FOUND',
  405: 'ERR_METHOD_NOT_ALLOWED',
  413: 'ERR_BAD_REQUEST',
};

/** An expected failure answered as Consul answers it: `status` and a text/plain body with Consul's wording. */
export class ConsulHttpError extends MachineroomError {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, options: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(CODE_OF_STATUS[status] ?? 'ERR_INTERNAL', message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'ConsulHttpError';
    this.status = status;
    this.headers = options.headers ?? {};
  }
}

/** 400 with Consul's reason. */
export function badRequest(message: string): ConsulHttpError {
  return new ConsulHttpError(400, message);
}

/** 404 with Consul's reason. */
export function notFound(message: string): ConsulHttpError {
  return new ConsulHttpError(404, message);
}

/** 413: a body or value over Consul's limits. */
export function tooLarge(message: string): ConsulHttpError {
  return new ConsulHttpError(413, message);
}

/** 500: what Consul's servers answer for RPC-level failures ("No path to datacenter", "invalid session ..."). */
export function rpcError(message: string): ConsulHttpError {
  return new ConsulHttpError(500, message);
}

/** The status and text an error thrown anywhere below the handler is answered with (never throws). */
export function describeError(err: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (err instanceof ConsulHttpError) return { status: err.status, message: err.message, headers: err.headers };
  if (err instanceof MachineroomError) {
    // The bus's data layer marks errors Consul answers with another status (RPC errors are 500 with their text).
    const consulStatus = (err.details as { consulStatus?: unknown } | undefined)?.consulStatus;
    const status = typeof consulStatus === 'number' ? consulStatus : httpStatusOf(err.code);
    return { status, message: err.message, headers: {} };
  }
  return { status: 500, message: err instanceof Error ? err.message : String(err), headers: {} };
}
