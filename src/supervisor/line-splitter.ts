// Splits a byte stream into whole lines, never mid-line; an over-long line is cut into marked pieces.
import { StringDecoder } from 'node:string_decoder';

/** Feeds chunks, calls `onLine` for each complete line; `end()` flushes the last partial line. */
export interface LineSplitter {
  push(chunk: Buffer): void;
  end(): void;
}

/** Creates a splitter; lines longer than `maxLine` characters are emitted in pieces. */
export function createLineSplitter(emit: (line: string) => void, maxLine = 64 * 1024): LineSplitter {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const onLine = (line: string) => {
    let rest = line;
    while (rest.length > maxLine) {
      emit(rest.slice(0, maxLine) + ' [line continues]');
      rest = rest.slice(maxLine);
    }
    emit(rest);
  };
  const feed = (text: string) => {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      let line = partial + text.slice(start, nl);
      partial = '';
      if (line.endsWith('\r')) line = line.slice(0, -1);
      onLine(line);
      start = nl + 1;
    }
    partial += text.slice(start);
    while (partial.length > maxLine) {
      emit(partial.slice(0, maxLine) + ' [line continues]');
      partial = partial.slice(maxLine);
    }
  };
  return {
    push: (chunk) => feed(decoder.write(chunk)),
    end() {
      feed(decoder.end());
      if (partial) {
        onLine(partial);
        partial = '';
      }
    },
  };
}
