/** The demo receiver on its own (`npm run receiver`): verifies webhooks signed with RECEIVER_SECRETS. */
import { parseConfig } from "../config.ts";
import { createLogger } from "../logging.ts";
import { onShutdown, runMain } from "../shutdown.ts";
import { createReceiver } from "./create-receiver.ts";

runMain(() => {
  const config = parseConfig(process.env, "receiver");
  const log = createLogger(config.LOG_LEVEL, "receiver");
  if (config.RECEIVER_SECRETS.length === 0) log.warn("RECEIVER_SECRETS is empty: every webhook will be rejected");
  const server = createReceiver({ secrets: () => config.RECEIVER_SECRETS, log });
  server.listen(config.RECEIVER_PORT, () => log.info({ port: config.RECEIVER_PORT }, "receiver listening"));
  onShutdown(log, () => new Promise<void>((resolve) => server.close(() => resolve())), 5000);
  return Promise.resolve();
});
