/**
 * The local stack's TTL: the emulators keep expired items forever, so `npm start` runs a pass over every table each
 * `intervalMs` deleting what DynamoDB's TTL would have (in AWS the tables' TTL attribute does it; nothing runs there).
 */
import type { Logger } from "pino";
import type { DocumentClient } from "../aws/clients.ts";
import { expireAll } from "../aws/expire-items.ts";
import { tableDefinitions, type TableNames } from "../aws/tables.ts";

export interface TtlSweeper {
  stop(): Promise<void>;
}

export function startTtlSweeper(o: {
  ddb: DocumentClient;
  tables: TableNames;
  intervalMs: number;
  log: Logger;
  now: () => number;
}): TtlSweeper {
  const tables = tableDefinitions(o.tables);
  let running: Promise<void> = Promise.resolve();
  const pass = async () => {
    try {
      const deleted = await expireAll(o.ddb, tables, Math.floor(o.now() / 1000));
      if (deleted > 0) o.log.info({ deleted }, "expired items deleted");
    } catch (err) {
      o.log.warn({ err }, "the TTL sweep failed; the next one tries again");
    }
  };
  const timer = setInterval(() => {
    running = running.then(pass);
  }, o.intervalMs);
  running = pass();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
