// The control API's wire conventions, shared by the daemon that serves it and the clients that call it.

/** The header carrying the control token. */
export const TOKEN_HEADER = 'x-machineroom-token';
/** The header every answer carries, so a client can refuse a daemon of another version. */
export const VERSION_HEADER = 'x-machineroom-version';
