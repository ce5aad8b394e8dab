// Server-Sent Events framing: one named event, its data as one line of JSON (JSON.stringify never emits a raw newline).

/** The text of one SSE event. */
export function sseFrame(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: ignored by EventSource, it keeps proxies and the browser from timing the connection out. */
export const SSE_HEARTBEAT = ': keep-alive\n\n';

/** The stream's first line: EventSource reconnects after 1 s (the daemon restarting, a front door worker recycled). */
export const SSE_RETRY = 'retry: 1000\n\n';
