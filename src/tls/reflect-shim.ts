// The few Reflect metadata functions @peculiar/x509's dependency tsyringe needs, so no polyfill package is required.

interface ReflectMetadata {
  defineMetadata?(key: unknown, value: unknown, target: object): void;
  getOwnMetadata?(key: unknown, target: object): unknown;
  getMetadata?(key: unknown, target: object): unknown;
  hasMetadata?(key: unknown, target: object): boolean;
}

const store = new WeakMap<object, Map<unknown, unknown>>();

function findMetadata(key: unknown, target: object): Map<unknown, unknown> | undefined {
  for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const m = store.get(o);
    if (m?.has(key)) return m;
  }
  return undefined;
}

/**
 * Installs defineMetadata, getOwnMetadata, getMetadata and hasMetadata on Reflect where they are missing
 * (tsyringe throws on load without them); a real polyfill loaded earlier is left as it is.
 */
export function installReflectMetadata(): void {
  const r = Reflect as unknown as ReflectMetadata;
  if (typeof r.getMetadata === 'function' && typeof r.defineMetadata === 'function') return;
  r.defineMetadata = (key, value, target) => {
    let m = store.get(target);
    if (!m) store.set(target, (m = new Map()));
    m.set(key, value);
  };
  r.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  r.getMetadata = (key, target) => findMetadata(key, target)?.get(key);
  r.hasMetadata = (key, target) => findMetadata(key, target) !== undefined;
}
