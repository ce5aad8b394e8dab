// The page's one room store, connected in main.tsx.
import { createRoomStore } from './room.js';

/** The machine room as this page knows it. */
export const room = createRoomStore();
