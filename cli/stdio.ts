/**
 * `npm run scenario -- --list | head`: when the reader of stdout goes away, stop writing there and let
 * the run finish as it would (exit status, files, shutdown), instead of dying on an EPIPE stack trace.
 */
export function tolerateClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.stdout.write = (() => true) as typeof process.stdout.write;
  });
}
