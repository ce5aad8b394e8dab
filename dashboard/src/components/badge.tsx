// A health badge: a coloured dot and a word (the word carries the meaning; the colour only helps).
import type { Tone } from '../lib/health.js';

/** A badge in one of the health tones. */
export function Badge({ tone, label, title }: { tone: Tone; label: string; title?: string }) {
  return (
    <span class={`badge tone-${tone}`} title={title}>
      <span class="dot" aria-hidden="true" />
      {label}
    </span>
  );
}
