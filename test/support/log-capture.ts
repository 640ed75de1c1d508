/** A pino logger whose lines are kept in memory, for tests that assert on what was (or was not) logged. */
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";

export function captureLogs(level: string): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}
