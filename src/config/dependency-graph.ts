// depends_on as a graph: normalised edges, cycle detection, dependency order and closure.

import type { DependsCondition } from './types.js';
import type { DependsOnOptions } from './schema.js';
import { CONFIG_DEFAULTS } from './defaults.js';

/** One edge: the dependent waits for `service` to reach `condition`. */
export interface Dependency {
  service: string;
  condition: DependsCondition;
}

/** Turns either depends_on form (list or map) into edges, in the order written, without duplicates. */
export function listDependencies(dependsOn: DependsOnOptions | undefined): Dependency[] {
  if (dependsOn === undefined) return [];
  const edges: Dependency[] = Array.isArray(dependsOn)
    ? dependsOn.map((service) => ({ service, condition: CONFIG_DEFAULTS.dependsOnCondition }))
    : Object.entries(dependsOn).map(([service, value]) => ({ service, condition: (typeof value === 'string' ? value : value.condition) ?? CONFIG_DEFAULTS.dependsOnCondition }));
  return edges.filter((edge, index) => edges.findIndex((other) => other.service === edge.service) === index);
}

/** The first dependency cycle in declaration order, starting at its earliest-declared service, closed (a → b → a). */
export function findDependencyCycle(names: readonly string[], edgesOf: (name: string) => readonly string[]): string[] | undefined {
  const done = new Set<string>();
  for (const start of names) {
    const cycle = walkForCycle(start, [], done, edgesOf);
    if (cycle) return rotateToEarliest(cycle, names);
  }
  return undefined;
}

function walkForCycle(name: string, stack: string[], done: Set<string>, edgesOf: (name: string) => readonly string[]): string[] | undefined {
  const onStack = stack.indexOf(name);
  if (onStack >= 0) return stack.slice(onStack);
  if (done.has(name)) return undefined;
  stack.push(name);
  for (const next of edgesOf(name)) {
    const cycle = walkForCycle(next, stack, done, edgesOf);
    if (cycle) return cycle;
  }
  stack.pop();
  done.add(name);
  return undefined;
}

function rotateToEarliest(cycle: string[], names: readonly string[]): string[] {
  const first = cycle.reduce((best, name) => (names.indexOf(name) < names.indexOf(best) ? name : best));
  const at = cycle.indexOf(first);
  const rotated = [...cycle.slice(at), ...cycle.slice(0, at)];
  return [...rotated, first];
}

/** Dependencies first; among services whose dependencies are all placed, declaration order wins. Assumes no cycle. */
export function orderByDependencies(names: readonly string[], edgesOf: (name: string) => readonly string[]): string[] {
  const placed = new Set<string>();
  const order: string[] = [];
  while (order.length < names.length) {
    const next = names.find((name) => !placed.has(name) && edgesOf(name).every((dep) => placed.has(dep) || !names.includes(dep)));
    if (next === undefined) throw new Error('orderByDependencies: dependency cycle');
    placed.add(next);
    order.push(next);
  }
  return order;
}

/** The given services plus everything they depend on, transitively. */
export function collectWithDependencies(roots: Iterable<string>, edgesOf: (name: string) => readonly string[]): Set<string> {
  const found = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (found.has(name)) continue;
    found.add(name);
    pending.push(...edgesOf(name));
  }
  return found;
}
