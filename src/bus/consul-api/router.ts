// Matches /v1 paths to endpoints as Go's ServeMux does for Consul: exact patterns, and subtree patterns (ending in "/")
// whose remainder is the endpoint's argument; the longest pattern wins.
import type { QueryOptions } from './query-options.js';

/** One request as an endpoint sees it. */
export interface ApiCall {
  req: Request;
  url: URL;
  /** The percent-decoded path after a subtree pattern ("" for exact patterns). */
  rest: string;
  q: QueryOptions;
}

/** An endpoint: a pattern, the methods it allows, and its handler. */
export interface Route {
  path: string;
  methods: string[];
  handle: (call: ApiCall) => Promise<Response>;
}

/** Finds the route for a decoded path, with the remainder after its pattern. */
export type RouteMatcher = (path: string) => { route: Route; rest: string } | undefined;

/** Builds the matcher for `routes`. */
export function createRouter(routes: Route[]): RouteMatcher {
  const exact = new Map<string, Route>();
  const subtrees = routes.filter((r) => r.path.endsWith('/')).sort((a, b) => b.path.length - a.path.length);
  for (const r of routes) if (!r.path.endsWith('/')) exact.set(r.path, r);
  return (path) => {
    const hit = exact.get(path);
    if (hit) return { route: hit, rest: '' };
    const sub = subtrees.find((r) => path.startsWith(r.path));
    return sub ? { route: sub, rest: path.slice(sub.path.length) } : undefined;
  };
}
