// What an action did, said once: "alpha scaled to 3", or why it failed. Successes fade; errors stay until dismissed.
import { createStore } from '../lib/store.js';

/** One message. */
export interface Notice {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}

/** The messages on screen. */
export const notices = createStore<{ list: Notice[] }>({ list: [] });

let nextId = 1;

/** Removes a message. */
export function dismiss(id: number): void {
  notices.set({ list: notices.get().list.filter((n) => n.id !== id) });
}

/** Shows a message; a success goes away after 5 s. */
export function notify(kind: Notice['kind'], text: string): void {
  const id = nextId++;
  notices.set({ list: [...notices.get().list.slice(-4), { id, kind, text }] });
  if (kind === 'ok') setTimeout(() => dismiss(id), 5000);
}

/** Runs an action, reporting its success or its error; resolves to whether it succeeded. */
export async function perform(action: () => Promise<unknown>, success: string): Promise<boolean> {
  try {
    await action();
    notify('ok', success);
    return true;
  } catch (err) {
    notify('error', (err as Error).message);
    return false;
  }
}
