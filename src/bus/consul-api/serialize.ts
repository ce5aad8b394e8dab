// Runs async mutations one at a time, so a registration's durable record and its catalog entries change in the same order.

/** A queue that runs each task after the previous one settled. */
export type Serializer = <T>(task: () => Promise<T>) => Promise<T>;

/** Creates an empty queue. */
export function createSerializer(): Serializer {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}
