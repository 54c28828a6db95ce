/** Reading a newline-delimited stream, as the apiserver's and etcd's watch answers are. */
import type { IncomingMessage } from 'node:http';

/**
 * Calls `onLine` with each non-empty, trimmed line of `res` as it arrives. `onLine` returning false stops
 * reading the chunk at hand (a stopped or failed watch reads no further).
 */
export function onLines(res: IncomingMessage, onLine: (line: string) => boolean | void): void {
  let buffered = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line && onLine(line) === false) return;
    }
  });
}
