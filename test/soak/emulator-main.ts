/**
 * One emulator in a process of its own, so the soak can kill it and start it again on the same port: `dynamodb
 * <port> <data dir>` (dynalite, its data on disk) or `sqs <port>` (fauxqs, in memory). Prints one line when ready.
 */
import { startDynalite, startSqsEmulator } from "../../services/local/emulators.ts";

const [kind, port, dataDir] = process.argv.slice(2);
const emulator =
  kind === "dynamodb" ? await startDynalite(Number(port), dataDir) : await startSqsEmulator(Number(port));
process.stdout.write(`${JSON.stringify({ ready: emulator.endpoint })}\n`);
process.on("SIGTERM", () => void emulator.stop().then(() => process.exit(0)));
