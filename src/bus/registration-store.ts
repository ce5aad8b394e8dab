// Durable id → JSON record table for registrations made through the API (not by the supervisor), which the API
// layer replays into the catalog after a restart.
import type { RegistrationStore } from './kv-types.js';
import type { BusContext } from './bus-context.js';

function cloneJson(record: unknown): unknown {
  return record === undefined ? null : JSON.parse(JSON.stringify(record));
}

/** Creates the registration table over a bus context. */
export function createRegistrationStore(ctx: BusContext): RegistrationStore {
  const { registrations } = ctx.state;
  return {
    async put(id, record) {
      // Stored as JSON, so what is replayed later is exactly what was saved (no shared mutable objects).
      await ctx.commit({ index: 0, registrationPut: [{ id, record: cloneJson(record) }] });
    },
    async delete(id) {
      if (!registrations.has(id)) return ctx.settle();
      await ctx.commit({ index: 0, registrationDelete: [id] });
    },
    all: () => [...registrations].map(([id, record]) => ({ id, record: cloneJson(record) })),
  };
}
