// Typed errors with stable codes: one place maps codes to HTTP statuses and CLI exit codes.

/** Every error code machineroom raises on purpose. */
export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_CONFIG_INVALID'
  | 'ERR_CONFIG_NOT_FOUND'
  | 'ERR_SERVICE_NOT_FOUND'
  | 'ERR_INSTANCE_NOT_FOUND'
  | 'ERR_DAEMON_NOT_RUNNING'
  | 'ERR_DAEMON_RUNNING'
  | 'ERR_VERSION_MISMATCH'
  | 'ERR_PORT_IN_USE'
  | 'ERR_NO_ADDRESS'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_FORBIDDEN'
  | 'ERR_BAD_REQUEST'
  | 'ERR_NOT_FOUND'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_CONFLICT'
  | 'ERR_TIMEOUT'
  | 'ERR_UNHEALTHY'
  | 'ERR_INTERNAL';

/** An expected failure with a stable code, a message that says what to do, and an optional cause. */
export class MachineroomError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MachineroomError';
    this.code = code;
    this.details = options.details;
  }
}

const HTTP_STATUS: Record<ErrorCode, number> = {
  ERR_USAGE: 400,
  ERR_CONFIG_INVALID: 400,
  ERR_CONFIG_NOT_FOUND: 404,
  ERR_SERVICE_NOT_FOUND: 404,
  ERR_INSTANCE_NOT_FOUND: 404,
  ERR_DAEMON_NOT_RUNNING: 503,
  ERR_DAEMON_RUNNING: 409,
  ERR_VERSION_MISMATCH: 409,
  ERR_PORT_IN_USE: 409,
  ERR_NO_ADDRESS: 503,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_BAD_REQUEST: 400,
  ERR_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_CONFLICT: 409,
  ERR_TIMEOUT: 504,
  ERR_UNHEALTHY: 503,
  ERR_INTERNAL: 500,
};

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'ERR_USAGE',
  'ERR_CONFIG_INVALID',
  'ERR_CONFIG_NOT_FOUND',
  'ERR_SERVICE_NOT_FOUND',
  'ERR_INSTANCE_NOT_FOUND',
]);

/** The HTTP status an error code answers with. */
export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/** The CLI exit code an error ends the process with. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof MachineroomError) return USAGE_CODES.has(err.code) ? EXIT_USAGE : EXIT_FAILURE;
  return EXIT_FAILURE;
}

/** Narrows an unknown value to a MachineroomError with the given code. */
export function isErrorCode(err: unknown, code: ErrorCode): err is MachineroomError {
  return err instanceof MachineroomError && err.code === code;
}

/** Recreates an error sent over the control API as `{code, message}`. */
export function errorFromWire(status: number, body: unknown): MachineroomError {
  const b = (body ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
  const code = (b.code && b.code in HTTP_STATUS ? b.code : status === 401 ? 'ERR_UNAUTHORIZED' : status === 403 ? 'ERR_FORBIDDEN' : 'ERR_INTERNAL') as ErrorCode;
  return new MachineroomError(code, b.message ?? `daemon answered HTTP ${status}`, b.details ? { details: b.details } : {});
}
