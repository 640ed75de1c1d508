/** `npm run emulators`: emulators and tables/queues only, on fixed ports, for running services by hand. */
import { parseConfig } from "../config.ts";
import { createLogger } from "../logging.ts";
import { onShutdown, runMain } from "../shutdown.ts";
import { startLocalBackends } from "./local-stack.ts";

runMain(async () => {
  const config = parseConfig(process.env, "local");
  const log = createLogger(config.LOG_LEVEL, "emulators");
  const { emulators, env } = await startLocalBackends(config, process.env);
  const exports = Object.entries(env)
    .map(([k, v]) => `export ${k}=${v}`)
    .join("\n");
  process.stdout.write(
    `\nEmulators ready (data in ${config.LOCAL_DATA_DIR}/). In another shell:\n\n${exports}\nnpm run start:api   # and/or: npm run start:worker\n\n`,
  );
  onShutdown(log, () => emulators.stop(), 10_000);
});
