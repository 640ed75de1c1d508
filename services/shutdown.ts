/** Two-stage shutdown for the services: the first SIGTERM/SIGINT drains, a second one exits at once. */
import type { Logger } from "pino";
import { stopTracing } from "./tracing/start.ts";

export function onShutdown(log: Logger, drain: () => Promise<void>, deadlineMs: number): void {
  let draining = false;
  const handle = (signal: NodeJS.Signals) => {
    if (draining) {
      log.warn({ signal }, "second signal, exiting now");
      process.exit(1);
    }
    draining = true;
    log.info({ signal, deadline_ms: deadlineMs }, "draining");
    const timer = setTimeout(() => {
      log.error("drain deadline passed, exiting");
      process.exit(1);
    }, deadlineMs);
    timer.unref();
    // The drain's own spans are sent before exiting (a no-op when tracing is off).
    drain()
      .then(() => stopTracing())
      .then(
        () => {
          log.info("stopped");
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, "drain failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}

/** Runs a service's main, turning a start-up failure (bad config, unreachable backend) into one clear line. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
