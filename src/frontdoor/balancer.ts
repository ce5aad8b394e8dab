// Balancers over a service's selectable upstreams: smooth weighted round robin, least connections, power of two choices.
import type { BalancerKind } from './types.js';
import type { Upstream } from './upstream.js';

/** Chooses one upstream among candidates (never empty) for a service. */
export interface Balancer {
  pick(service: string, candidates: Upstream[]): Upstream;
}

/** Creates the balancer for a strategy. */
export function createBalancer(kind: BalancerKind, random: () => number = Math.random): Balancer {
  switch (kind) {
    case 'round-robin':
      return createRoundRobin();
    case 'least-conn':
      return createLeastConn();
    case 'p2c':
      return createP2c(random);
  }
}

/** Smooth weighted round robin (nginx's): each pick adds weights to current scores and takes the highest. */
function createRoundRobin(): Balancer {
  const current = new Map<string, Map<string, number>>();
  return {
    pick(service, candidates) {
      let scores = current.get(service);
      if (!scores) current.set(service, (scores = new Map()));
      let total = 0;
      let best: Upstream | undefined;
      let bestScore = -Infinity;
      for (const u of candidates) {
        const s = (scores.get(u.id) ?? 0) + u.weight;
        scores.set(u.id, s);
        total += u.weight;
        if (s > bestScore) {
          bestScore = s;
          best = u;
        }
      }
      scores.set(best!.id, bestScore - total);
      if (scores.size > candidates.length * 2) {
        const live = new Set(candidates.map((c) => c.id));
        for (const id of scores.keys()) if (!live.has(id)) scores.delete(id);
      }
      return best!;
    },
  };
}

/** Fewest in-flight requests per unit of weight; ties rotate so idle services still spread. */
function createLeastConn(): Balancer {
  let rotation = 0;
  return {
    pick(_service, candidates) {
      const n = candidates.length;
      const start = rotation++ % n;
      let best = candidates[start]!;
      for (let i = 1; i < n; i++) {
        const u = candidates[(start + i) % n]!;
        if (u.inFlight / u.weight < best.inFlight / best.weight) best = u;
      }
      return best;
    },
  };
}

/** Two random candidates, the less loaded wins. */
function createP2c(random: () => number): Balancer {
  return {
    pick(_service, candidates) {
      const n = candidates.length;
      if (n === 1) return candidates[0]!;
      const a = Math.floor(random() * n);
      let b = Math.floor(random() * (n - 1));
      if (b >= a) b++;
      const ua = candidates[a]!;
      const ub = candidates[b]!;
      return ub.inFlight / ub.weight < ua.inFlight / ua.weight ? ub : ua;
    },
  };
}
