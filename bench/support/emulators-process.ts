/** The emulators in their own process (so the load generator does not share their CPU); prints the endpoints. */
import { startEmulators } from "../../services/local/emulators.ts";

const emulators = await startEmulators({ dynamoPort: 0, sqsPort: 0 });
process.stdout.write(`${JSON.stringify({ dynamo: emulators.dynamoEndpoint, sqs: emulators.sqsEndpoint })}\n`);
process.on("SIGTERM", () => void emulators.stop().then(() => process.exit(0)));
