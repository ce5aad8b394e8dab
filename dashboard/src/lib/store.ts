// A small observable store and the hook that reads a slice of it: components re-render only when their slice changes.
import { useEffect, useReducer, useRef } from 'preact/hooks';

/** A value that changes over time and tells its subscribers. */
export interface Store<T> {
  get(): T;
  /** Replaces the fields given (a shallow merge) and notifies once. */
  set(patch: Partial<T>): void;
  subscribe(fn: () => void): () => void;
}

/** Creates a store holding `initial`. */
export function createStore<T extends object>(initial: T): Store<T> {
  let state = initial;
  const subscribers = new Set<() => void>();
  return {
    get: () => state,
    set(patch) {
      state = { ...state, ...patch };
      for (const fn of [...subscribers]) fn();
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
  };
}

/** Reads `select(state)` and re-renders the component when that value changes (compared with Object.is). */
export function useStore<T extends object, S>(store: Store<T>, select: (state: T) => S): S {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const selectRef = useRef(select);
  selectRef.current = select;
  const value = select(store.get());
  const valueRef = useRef(value);
  valueRef.current = value;
  useEffect(() => {
    const check = () => {
      if (!Object.is(selectRef.current(store.get()), valueRef.current)) rerender(0);
    };
    check(); // it may have changed between render and subscription
    return store.subscribe(check);
  }, [store]);
  return value;
}
