// Test support: one HTTP request to the front door on 127.0.0.1:`port`, with the Host header a browser would send.
import { request } from 'node:http';

/** The answer, body as text. */
export interface FrontDoorAnswer {
  status: number;
  body: string;
}

/** Sends `method path` with `Host: hostHeader` (name and port, as a browser sends it); a 10 s timeout, a fresh connection. */
export function frontDoorRequest(port: number, hostHeader: string, path = '/', method = 'GET', body?: string): Promise<FrontDoorAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: hostHeader, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${hostHeader}${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}
