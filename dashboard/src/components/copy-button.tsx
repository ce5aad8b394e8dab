// Copies a URL or value to the clipboard, saying so.
import { useState } from 'preact/hooks';

/** A small "Copy" button for `text`; `what` names it for screen readers. */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [done, setDone] = useState<'' | 'copied' | 'failed'>('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('copied');
    } catch {
      setDone('failed');
    }
    setTimeout(() => setDone(''), 1500);
  };
  return (
    <button type="button" class="btn btn-small btn-quiet" onClick={copy} aria-label={`Copy ${what}`}>
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}
