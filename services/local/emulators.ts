/**
 * The DynamoDB and SQS emulators from npm (dynalite, fauxqs), in this process, on loopback. DynamoDB keeps
 * its data on disk; the queues live in memory and are rebuilt from DynamoDB at start (rebuild-queues.ts),
 * because fauxqs's on-disk mode loses messages made visible again.
 */
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import dynalite from "dynalite";
import { startFauxqs } from "fauxqs";

export interface Emulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * dynalite on `port` (0 picks one) at `host`; data under `dataDir` survives a restart, else it lives in memory.
 * The endpoint returned is on loopback, for this process's own use.
 */
export async function startDynalite(port: number, dataDir?: string, host = "127.0.0.1"): Promise<Emulator> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = dynalite({
    ...(dataDir ? { path: dataDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** fauxqs on `port` (0 picks one), in memory. */
export async function startSqsEmulator(port: number): Promise<Emulator> {
  const server = await startFauxqs({ port, logger: false });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

export interface Emulators {
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Where DynamoDB keeps its data across restarts; in memory when absent. The queues are always in memory. */
  readonly dataDir?: string | undefined;
  /** 0 picks a free port. */
  readonly dynamoPort: number;
  readonly sqsPort: number;
  /** The address DynamoDB listens on (fauxqs always listens on every address). @default "127.0.0.1" */
  readonly host?: string;
}

export async function startEmulators(opts: EmulatorOptions): Promise<Emulators> {
  const dynamo = await startDynalite(opts.dynamoPort, opts.dataDir && join(opts.dataDir, "dynamodb"), opts.host);
  const sqs = await startSqsEmulator(opts.sqsPort);
  return {
    dynamoEndpoint: dynamo.endpoint,
    sqsEndpoint: sqs.endpoint,
    async stop() {
      await sqs.stop();
      await dynamo.stop();
    },
  };
}
