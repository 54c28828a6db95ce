/** Reading and writing newline-delimited streams, as the apiserver's and etcd's watch answers are. */
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';

/**
 * Calls `onLine` with each non-empty, trimmed line of `res` as it arrives. `onLine` returning false stops
 * reading the chunk at hand (a stopped or failed watch reads no further).
 */
export function onLines(res: IncomingMessage, onLine: (line: string) => boolean | void): void {
  let buffered = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffered = buffered === '' ? chunk : buffered + chunk;
    let start = 0;
    let nl: number;
    while ((nl = buffered.indexOf('\n', start)) >= 0) {
      const line = buffered.slice(start, nl).trim();
      start = nl + 1;
      if (line && onLine(line) === false) break;
    }
    if (start > 0) buffered = buffered.slice(start);
  });
}

/**
 * A writer for a long-lived stream (a watch) that gathers what is written in one turn of the event
 * loop into one write: a burst of events (a ReplicaSet's hundred pods) leaves as a few TLS records
 * and one writev, not one of each per event. `end()` flushes what is gathered.
 */
export function batchedWriter(stream: Writable): (chunk: string) => void {
  let corked = false;
  const flush = (): void => { corked = false; stream.uncork(); };
  return (chunk) => {
    if (!corked) {
      corked = true;
      stream.cork();
      setImmediate(flush);
    }
    stream.write(chunk);
  };
}
