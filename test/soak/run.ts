/**
 * `npm run soak`: the platform over time with its faults overlapping. Two API and two worker processes on the local
 * stack's emulators (each in a process of its own, behind a fault proxy), 20 tenants × 5 endpoints with receivers
 * that are fast, slow, never answer, flap, throttle, go away or fail TLS; events at a steady rate with bursts, some
 * with ordering keys, every one with an Idempotency-Key (and some sent twice). On a schedule: a worker SIGKILLed
 * every 45 s (every third time a SIGTERM), an API killed mid-request, DynamoDB's emulator killed and restarted on its
 * data, SQS's restarted empty and its queues rebuilt from DynamoDB as `npm start` does; throttling, 500s, slow
 * answers and dropped connections all along. Then the verdict (verdict.ts), printed, and written as JSON.
 *
 * `--events N` (default 36,000), `--minutes M` of sending (default 18), `--quick` (5,000 events in 150 s, for CI).
 * The default rate (33/s on average: 29/s, and 86/s for 5 s every minute) is what a 2-core host holds with every
 * fault on; the issue's 100,000 is `--events 100000 --minutes 50`. Bounded: sending stops after M minutes, the drain
 * waits at most 10 minutes (quick: 3).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { parseConfig } from "../../services/config.ts";
import { createAwsClients } from "../../services/aws/clients.ts";
import { provisionAll } from "../../services/aws/provision.ts";
import { ensureKeyFile } from "../../services/aws/secret-keys.ts";
import { getTenant } from "../../services/aws/tenants.ts";
import { eventIndexes } from "../../services/aws/tables.ts";
import { localCredentials } from "../../services/local/local-stack.ts";
import { rebuildQueues } from "../../services/local/rebuild-queues.ts";
import { provisionOptions, secretKeysOf, storesOf } from "../../services/runtime.ts";
import { freePort } from "../support/free-port.ts";
import { startProcess, type StartedProcess } from "../support/processes.ts";
import type { ChaosCounts } from "./chaos-proxy.ts";
import { kinds, startReceivers, type Kind } from "./receivers.ts";
import { judge, percentile, slopeMbPer10Min, type Accepted, type Disruption } from "./verdict.ts";

const { values: args } = parseArgs({
  options: { quick: { type: "boolean" }, events: { type: "string" }, minutes: { type: "string" } },
});
const quick = args.quick === true;
const total = Number(args.events ?? (quick ? 5_000 : 36_000));
const sendMs = Number(args.minutes ?? (quick ? 2.5 : 18)) * 60_000;
const drainMs = (quick ? 3 : 10) * 60_000;
/** A worker is disrupted this often; every third time with SIGTERM, else SIGKILL. */
const workerFaultEveryMs = quick ? 30_000 : 45_000;
const flapMs = quick ? 20_000 : 60_000;
const tenantsCount = 20;
/** Share of events per receiver kind. */
const weights: Record<Kind, number> = {
  fast: 0.6,
  slow: 0.08,
  never: 0.04,
  flap: 0.1,
  r429: 0.08,
  gone: 0.06,
  tls: 0.04,
};
const orderedKinds: ReadonlySet<Kind> = new Set(["fast", "flap", "r429"]);
const deliveryTimeoutMs = 4000;
/** Faults at these rates per AWS call while events are sent. */
const rates = { throttle: 0.01, error: 0.005, slow: 0.01, drop: 0.002, dropAfter: 0.002 };

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const services = fileURLToPath(new URL("../../services/", import.meta.url));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const say = (text: string) =>
  process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${text}\n`);

// ---- The stack: emulators, fault proxies, services -----------------------------------------------------------------

const dataDir = mkdtempSync(join(tmpdir(), "soak-"));
const ports = {
  dynamodb: await freePort(),
  sqs: await freePort(),
  dynamodbProxy: await freePort(),
  sqsProxy: await freePort(),
  apis: [await freePort(), await freePort()],
  metrics: [await freePort(), await freePort()],
};
const direct = { dynamodb: `http://127.0.0.1:${ports.dynamodb}`, sqs: `http://127.0.0.1:${ports.sqs}` };
const readyLine = (line: string) => (line.startsWith("{") && "ready" in JSON.parse(line) ? true : undefined);

/**
 * A process the soak may kill and start again; `samples` is its RSS every 10 s (and, where `metrics` reads it, the
 * V8 heap in use then: what separates live objects from memory V8 or the allocator keeps), `current` its process.
 */
interface Slot {
  readonly name: string;
  current: StartedProcess<unknown> | undefined;
  readonly start: () => Promise<StartedProcess<unknown>>;
  readonly samples: { at: number; bytes: number; heap?: number }[];
  /** Whether its RSS slope is judged: one of ours (not an emulator, not the fault proxy) that the soak never kills. */
  readonly judged: boolean;
  /** Its Prometheus text (`/metrics`), for a judged process. */
  metrics?: () => Promise<string>;
}
const slots: Slot[] = [];
// Whatever happens, nothing started here outlives the run.
process.on("exit", () => slots.forEach((s) => s.current?.child.kill("SIGKILL")));
function slot(name: string, judged: boolean, start: () => Promise<StartedProcess<unknown>>): Slot {
  const s: Slot = { name, current: undefined, start, samples: [], judged };
  slots.push(s);
  return s;
}
async function up(s: Slot): Promise<void> {
  s.current = await s.start();
}
async function down(s: Slot, signal: NodeJS.Signals): Promise<void> {
  await s.current?.kill(signal);
  s.current = undefined;
}

const emulator = (kind: "dynamodb" | "sqs") =>
  startProcess(
    here("./emulator-main.ts"),
    kind === "dynamodb" ? ["dynamodb", String(ports.dynamodb), join(dataDir, "dynamodb")] : ["sqs", String(ports.sqs)],
    {},
    readyLine,
  );
const proxy = (kind: "dynamodb" | "sqs", port: number) =>
  startProcess(here("./chaos-proxy.ts"), [kind, direct[kind], String(port), JSON.stringify(rates)], {}, readyLine);
const dynamodb = slot("dynamodb emulator", false, () => emulator("dynamodb"));
const sqs = slot("sqs emulator", false, () => emulator("sqs"));
const proxies = [
  slot("dynamodb fault proxy", false, () => proxy("dynamodb", ports.dynamodbProxy)),
  slot("sqs fault proxy", false, () => proxy("sqs", ports.sqsProxy)),
];
await Promise.all([dynamodb, sqs, ...proxies].map(up));

const secretsKey = join(dataDir, "secrets.key");
await ensureKeyFile(secretsKey);
const adminToken = "soak-admin-token-0123456789abcdef";
const env: Record<string, string> = {
  SECRETS_KEY_FILE: secretsKey,
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
  AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${ports.dynamodbProxy}`,
  AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${ports.sqsProxy}`,
  ADMIN_TOKEN: adminToken,
  ALLOW_PRIVATE_TARGETS: "true",
  LOG_LEVEL: "info",
  SQS_WAIT_TIME_S: "2",
  RETRY_SCHEDULE: "1s,5s,15s,30s",
  DELIVERY_TIMEOUT_MS: String(deliveryTimeoutMs),
  VISIBILITY_TIMEOUT_S: "30",
  SWEEP_INTERVAL_MS: "5000",
  SWEEP_GRACE_MS: "20000",
  ENDPOINT_DISABLE_AFTER: quick ? "90s" : "300s",
  INGEST_RATE_PER_S: "100000",
  INGEST_BURST: "100000",
};
const config = parseConfig(env, "api");
const directClients = createAwsClients({
  region: "us-east-1",
  endpoints: { dynamodb: direct.dynamodb, sqs: direct.sqs },
  credentials: localCredentials,
});
const stores = storesOf(directClients.ddb, config, await secretKeysOf(config, directClients));
const provision = () => provisionAll(directClients.dynamo, directClients.sqs, provisionOptions(config));
const urls = await provision();

/** Event ids whose outcome a worker said it did not record (verdict.ts `logged`), and why. */
const unrecordedEventIds = new Map<string, string>();
/** The errors behind "outcome write failed", by message. */
const writeErrors = new Map<string, number>();
const logLine = (line: string): void => {
  if (line.includes('"after the attempt"')) {
    const err = z.object({ err: z.object({ message: z.string() }).optional() }).safeParse(JSON.parse(line));
    const message = (err.success && err.data.err?.message.slice(0, 120)) || "?";
    writeErrors.set(message, (writeErrors.get(message) ?? 0) + 1);
  }
  const why = line.includes('"after the attempt"')
    ? "outcome write failed"
    : line.includes('"reason":"settled"')
      ? "lease ran out before the outcome"
      : undefined;
  const entry = why && z.object({ event_id: z.string() }).safeParse(JSON.parse(line));
  if (why && entry && entry.success) unrecordedEventIds.set(entry.data.event_id, why);
};
const service = (role: "api" | "worker", extra: Record<string, string>) =>
  startProcess(join(services, role, "main.ts"), [], { ...env, ...extra }, (line) => {
    logLine(line);
    return line.includes(role === "api" ? '"msg":"listening"' : '"msg":"worker started"') ? true : undefined;
  });
const apis = ports.apis.map((port, i) => slot(`api ${i + 1}`, i === 0, () => service("api", { PORT: String(port) })));
const workers = ports.metrics.map((port, i) =>
  slot(`worker ${i + 1}`, i === 0, () => service("worker", { METRICS_PORT: String(port) })),
);
await Promise.all([...apis, ...workers].map(up));
const apiUrls = ports.apis.map((p) => `http://127.0.0.1:${p}`);
const scrape =
  (url: string, headers: Record<string, string> = {}) =>
  () =>
    fetch(url, { headers, signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
apis[0]!.metrics = scrape(`${apiUrls[0]}/metrics`, { authorization: `Bearer ${adminToken}` });
workers[0]!.metrics = scrape(`http://127.0.0.1:${ports.metrics[0]}/metrics`);

const receivers = await startReceivers({ flapMs, goneAt: t0 + sendMs * 0.4 });

// ---- Tenants: each has a fast endpoint and four of the other kinds, one event type per kind ---------------------

interface SoakTenant {
  readonly index: number;
  readonly apiKey: string;
  readonly kinds: readonly Kind[];
}
const others = kinds.filter((k) => k !== "fast");
const tenants: SoakTenant[] = [];
for (let index = 0; index < tenantsCount; index++) {
  const mine: Kind[] = ["fast", ...[0, 1, 2, 3].map((j) => others[(index + j) % others.length]!)];
  const res = await fetch(`${apiUrls[0]}/admin/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: `soak ${index}`,
      endpoints: mine.map((kind) => ({ url: receivers.url(kind, index), event_types: [`soak.${kind}`] })),
    }),
  });
  if (res.status !== 201) throw new Error(`tenant ${index}: ${res.status} ${await res.text()}`);
  const { api_key: apiKey } = z.object({ api_key: z.string() }).parse(await res.json());
  tenants.push({ index, apiKey, kinds: mine });
}
say(
  `stack up: 2 APIs, 2 workers, ${tenantsCount} tenants × 5 endpoints; sending ${total} events in ${sendMs / 1000} s`,
);

// ---- Memory: every process's RSS every 10 s ------------------------------------------------------------------------

const rssOf = (pid: number | undefined): number | undefined => {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
};
const heapUsed = (text: string): number | undefined => {
  const bytes = /^nodejs_heap_size_used_bytes\{[^}]*\} (\d+)/m.exec(text)?.[1];
  return bytes === undefined ? undefined : Number(bytes);
};
const sampler = setInterval(() => {
  for (const s of slots) {
    const at = Date.now();
    const bytes = rssOf(s.current?.child.pid);
    if (bytes === undefined) continue;
    const sample: Slot["samples"][number] = { at, bytes };
    s.samples.push(sample);
    // The heap is read a moment later, over HTTP; a busy or stopped process just leaves it out.
    s.metrics?.().then(
      (text) => (sample.heap = heapUsed(text)),
      () => undefined,
    );
  }
}, 10_000);

// ---- Faults on a schedule ------------------------------------------------------------------------------------------

const disruptions: Disruption[] = [];
const faultLog: string[] = [];
const chaos = async (what: "on" | "off" | ""): Promise<ChaosCounts[]> =>
  Promise.all(
    [ports.dynamodbProxy, ports.sqsProxy].map(async (p) => {
      const res = await fetch(`http://127.0.0.1:${p}/__chaos${what ? `/${what}` : ""}`, {
        method: what ? "POST" : "GET",
      });
      return (await res.json()) as ChaosCounts;
    }),
  );
const fault = (text: string, disruptive: boolean) => {
  faultLog.push(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${text}`);
  if (disruptive) disruptions.push({ what: text, at: Date.now() });
  say(text);
};
const schedule: { at: number; run: () => Promise<void> }[] = [];
for (let k = 1; k * workerFaultEveryMs < sendMs; k++) {
  const signal: NodeJS.Signals = k % 3 === 2 ? "SIGTERM" : "SIGKILL";
  schedule.push({
    at: k * workerFaultEveryMs,
    run: async () => {
      fault(`worker 2 ${signal}`, true);
      await down(workers[1]!, signal);
      await up(workers[1]!);
    },
  });
}
for (const share of [0.25, 0.75])
  schedule.push({
    at: sendMs * share,
    run: async () => {
      fault("api 2 SIGKILL with requests in flight", false);
      await down(apis[1]!, "SIGKILL");
      await pause(2000);
      await up(apis[1]!);
    },
  });
schedule.push({
  at: sendMs * 0.45,
  run: async () => {
    fault("dynamodb emulator SIGKILL, restarted on its data in 3 s", true);
    await down(dynamodb, "SIGKILL");
    await pause(3000);
    await up(dynamodb);
  },
});
schedule.push({
  at: sendMs * 0.6,
  run: async () => {
    fault("sqs emulator SIGKILL, restarted empty, queues rebuilt from DynamoDB", false);
    await down(sqs, "SIGKILL");
    await up(sqs);
    await provision();
    const rebuilt = await rebuildQueues(stores.events, { sqs: directClients.sqs, ...urls }, (id) =>
      getTenant(stores.tenants, id),
    );
    say(`queues rebuilt: ${rebuilt.pending} pending, ${rebuilt.dead} dead`);
  },
});
schedule.sort((a, b) => a.at - b.at);

// ---- Events --------------------------------------------------------------------------------------------------------

const accepted: Accepted[] = [];
const gaveUp: string[] = [];
const refused = new Map<number, number>();
const doubles = { sent: 0, same: 0, different: 0 };
let posts = 0;
let inFlight = 0;
let nextApi = 0;
const laneSeq = new Map<string, number>();
const laneChain = new Map<string, Promise<unknown>>();
const runId = Date.now().toString(36);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
function pickKind(): Kind {
  let r = Math.random();
  for (const k of kinds) if ((r -= weights[k]) < 0) return k;
  return "fast";
}

/** POSTs until answered 200/201 (another API after a failure, the same Idempotency-Key), for at most 2 minutes. */
async function post(t: SoakTenant, body: string, headers: Record<string, string>): Promise<string | undefined> {
  const until = Date.now() + 120_000;
  for (let attempt = 1; Date.now() < until; attempt++) {
    posts++;
    try {
      const res = await fetch(`${apiUrls[nextApi++ % apiUrls.length]}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.apiKey}`, "content-type": "application/json", ...headers },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status === 200 || res.status === 201)
        return z.object({ event_id: z.string() }).parse(JSON.parse(text)).event_id;
      if (res.status !== 429 && res.status < 500) {
        refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
        return undefined;
      }
    } catch {
      // Connection refused or reset (an API killed), or our timeout: the same request again.
    }
    await pause(Math.min(2000, 100 * attempt));
  }
  return undefined;
}

async function sendOne(i: number): Promise<void> {
  const kind = pickKind();
  const t = pick(tenants.filter((x) => x.kinds.includes(kind)));
  const id = `${runId}-${i}`;
  const ordered = orderedKinds.has(kind) && Math.random() < 0.3;
  const lane = ordered ? `${t.index}/${kind}/k${Math.floor(Math.random() * 5)}` : undefined;
  const headers: Record<string, string> = {
    "idempotency-key": `soak-${id}`,
    ...(lane ? { "ordering-key": lane.split("/")[2]! } : {}),
  };
  const send = async () => {
    const seq = lane ? (laneSeq.get(lane) ?? 0) + 1 : 0;
    if (lane) laneSeq.set(lane, seq);
    const body = JSON.stringify({ type: `soak.${kind}`, soak: { id, seq }, data: { pad: "x".repeat(600) } });
    const sentAt = Date.now();
    const eventId = await post(t, body, headers);
    if (!eventId) return void gaveUp.push(id);
    accepted.push({ id, kind, eventId, sentAt, lane: lane ? { key: lane, seq } : undefined });
    if (Math.random() < 0.05) {
      doubles.sent++;
      const again = await post(t, body, headers);
      if (again === eventId) doubles.same++;
      else doubles.different++;
    }
  };
  inFlight++;
  try {
    if (!lane) return await send();
    const chained = (laneChain.get(lane) ?? Promise.resolve()).then(send);
    laneChain.set(lane, chained);
    await chained;
  } finally {
    inFlight--;
  }
}

await chaos("on");
const sendStart = Date.now();
const sends: Promise<void>[] = [];
let due = 0;
let faultsRunning = Promise.resolve();
const progress = setInterval(
  () =>
    say(
      `sent ${sends.length}, accepted ${accepted.length}, in flight ${inFlight}, POSTs received ${receivers.arrivals.length}`,
    ),
  quick ? 15_000 : 60_000,
);
// A steady rate with a burst of three times it for 5 s every minute (quick: every 30 s).
const burstEvery = quick ? 30_000 : 60_000;
const baseRate = total / (sendMs / 1000) / (1 + (2 * 5_000) / burstEvery);
while (Date.now() - sendStart < sendMs) {
  const elapsed = Date.now() - sendStart;
  while (schedule[0] && schedule[0].at <= elapsed) {
    const next = schedule.shift()!;
    faultsRunning = faultsRunning.then(next.run).catch((err: unknown) => void say(`fault failed: ${String(err)}`));
  }
  due += (baseRate / 10) * (elapsed % burstEvery < 5_000 ? 3 : 1);
  while (due >= 1 && sends.length < total && inFlight < 300) {
    sends.push(sendOne(sends.length));
    due--;
  }
  await pause(100);
}
await Promise.all(sends);
await faultsRunning;
const chaosCounts = await chaos("off");
// The incident is over: the flapping receivers answer 200 again, so the drain is bounded by the circuit's next probe
// (a held delivery waits for it, as designed), not by how long the flapping would last.
receivers.settle();
clearInterval(progress);
say(`sending done: ${accepted.length} of ${sends.length} accepted; faults off; waiting for the deliveries to settle`);

// ---- Drain: every accepted event's delivery settled, the queue empty ---------------------------------------------

const eventsTable = stores.events.table;
/**
 * Events with an unsettled delivery: the sparse by-due index, each entry checked on its item (dynalite killed
 * mid-write can leave an index entry its item no longer has: `staleIndex`).
 */
let staleIndex = 0;
async function unsettled(): Promise<{ tenantId: string; sk: string; item: unknown }[]> {
  const keys: { tenantId: string; sk: string }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await directClients.ddb.send(
      new ScanCommand({ TableName: eventsTable, IndexName: eventIndexes.byDue, ExclusiveStartKey: start }),
    );
    keys.push(...z.array(z.object({ tenantId: z.string(), sk: z.string() })).parse(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  // Many entries: the backlog is not drained yet, whatever a few stale ones say.
  if (keys.length > 200) return keys.map((key) => ({ ...key, item: key }));
  const open: { tenantId: string; sk: string; item: unknown }[] = [];
  for (const key of keys) {
    const { Item } = await directClients.ddb.send(new GetCommand({ TableName: eventsTable, Key: key }));
    open.push({ ...key, item: Item?.dueAt === undefined ? undefined : { ...Item, body: undefined } });
  }
  staleIndex = open.filter((o) => o.item === undefined).length;
  return open.filter((o) => o.item !== undefined);
}
/** Messages waiting on the delivery queue (visible or delayed), and those taken or nacked to a later time. */
async function queueDepth(): Promise<{ waiting: number; invisible: number }> {
  const { Attributes: a = {} } = await directClients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: urls.queueUrl, AttributeNames: ["All"] }),
  );
  return {
    waiting: Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    invisible: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
const drainStart = Date.now();
let open = await unsettled();
let depth = await queueDepth();
// Drained: no unsettled delivery, no message waiting. A message nacked to a later time may outlive its delivery's
// settling (a deferral's comeback): it is acked when it surfaces, and counted here as left over.
while ((open.length > 0 || depth.waiting > 0) && Date.now() - drainStart < drainMs) {
  await pause(5000);
  [open, depth] = [await unsettled(), await queueDepth()];
  say(`unsettled events ${open.length}, queue: ${depth.waiting} waiting, ${depth.invisible} invisible`);
}
const drainedAfterS = Math.round((Date.now() - drainStart) / 1000);
clearInterval(sampler);

// ---- Verdict -------------------------------------------------------------------------------------------------------

const final = new Map<string, string>();
const itemSchema = z.object({ sk: z.string(), deliveries: z.record(z.string(), z.object({ status: z.string() })) });
let start: Record<string, unknown> | undefined;
do {
  const page = await directClients.ddb.send(
    new ScanCommand({
      TableName: eventsTable,
      FilterExpression: "attribute_exists(deliveries)",
      ProjectionExpression: "sk, deliveries",
      ExclusiveStartKey: start,
    }),
  );
  for (const item of page.Items ?? []) {
    const { sk, deliveries } = itemSchema.parse(item);
    const [only] = Object.values(deliveries);
    final.set(sk, only?.status ?? "NO DELIVERY");
  }
  start = page.LastEvaluatedKey;
} while (start);

const eventIdToId = new Map(accepted.map((e) => [e.eventId, e.id]));
const idToEvent = new Map(accepted.map((e) => [e.id, e]));
const verdict = judge({
  accepted,
  arrivals: receivers.arrivals,
  final,
  disruptions,
  logged: new Map(
    [...unrecordedEventIds].flatMap(([e, why]) => (eventIdToId.has(e) ? [[eventIdToId.get(e)!, why]] : [])),
  ),
  windowMs: deliveryTimeoutMs + 10_000,
});
const warmUp = sendStart + Math.min(sendMs * 0.25, 120_000);
const memory = slots.map((s) => {
  const after = s.samples.filter((x) => x.at >= warmUp);
  const mb = (b: number | undefined) => (b === undefined ? undefined : Math.round(b / 1e5) / 10);
  return {
    process: s.name,
    first_mb: mb(s.samples[0]?.bytes),
    last_mb: mb(s.samples.at(-1)?.bytes),
    max_mb: mb(Math.max(...s.samples.map((x) => x.bytes))),
    slope_mb_per_10_min: Number((slopeMbPer10Min(after) ?? 0).toFixed(2)),
    judged: s.judged,
    ...(s.metrics && {
      heap_slope_mb_per_10_min: Number(
        (slopeMbPer10Min(after.flatMap((x) => (x.heap ? [{ at: x.at, bytes: x.heap }] : []))) ?? 0).toFixed(2),
      ),
      // [seconds since the start, RSS MB, V8 heap in use MB]: the series behind both slopes.
      series: s.samples.map((x) => [Math.round((x.at - t0) / 1000), mb(x.bytes), mb(x.heap) ?? null]),
    }),
  };
});
const judgedMemory = sendMs >= 10 * 60_000;
const leaking = memory.filter((m) => m.judged && m.slope_mb_per_10_min >= 5);
const ms = (x: number | undefined) => (x === undefined ? null : Math.round(x));
const report = {
  date: new Date(t0).toISOString(),
  mode: quick ? "quick" : "full",
  settings: {
    events: total,
    send_seconds: sendMs / 1000,
    tenants: tenantsCount,
    weights,
    rates,
    env: { ...env, ADMIN_TOKEN: undefined },
  },
  events: {
    sent: sends.length,
    accepted: accepted.length,
    client_gave_up: gaveUp.length,
    refused: Object.fromEntries(refused),
    api_posts: posts,
    sent_twice: doubles,
    ordered: accepted.filter((e) => e.lane).length,
  },
  deliveries: verdict.states,
  lost: verdict.lost.length,
  wrong_state: verdict.wrongState.length,
  dead_though_received: verdict.receivedNotRecorded,
  repeats_explained: verdict.repeats.explained,
  repeats_unexplained: verdict.repeats.unexplained.length,
  out_of_order: verdict.outOfOrder.length,
  receiver_requests: receivers.arrivals.length,
  first_attempt_ms: {
    p50: ms(percentile(verdict.firstAttempt.all, 50)),
    p99: ms(percentile(verdict.firstAttempt.all, 99)),
    fast_unordered_p50: ms(percentile(verdict.firstAttempt.fast, 50)),
    fast_unordered_p99: ms(percentile(verdict.firstAttempt.fast, 99)),
  },
  drained_after_s: drainedAfterS,
  unsettled_at_end: open.length,
  stale_due_index_entries: staleIndex,
  queue_at_end: depth,
  memory,
  memory_judged: judgedMemory,
  faults: faultLog,
  aws_faults: { dynamodb: chaosCounts[0], sqs: chaosCounts[1] },
  outcome_write_errors: Object.fromEntries(writeErrors),
  examples: {
    lost: await Promise.all(
      verdict.lost.slice(0, 10).map(async (line) => {
        const e = idToEvent.get(line.split(" ")[0]!);
        const { Items = [] } = await directClients.ddb.send(
          new ScanCommand({
            TableName: eventsTable,
            FilterExpression: "sk = :sk",
            ProjectionExpression: "sk, #s, dueAt, dueShard, orderingKey, deliveries",
            ExpressionAttributeNames: { "#s": "status" },
            ExpressionAttributeValues: { ":sk": e?.eventId },
          }),
        );
        return { line, sent_at_s: e && (e.sentAt - t0) / 1000, item: Items[0] };
      }),
    ),
    wrong_state: verdict.wrongState.slice(0, 10),
    repeats_unexplained: verdict.repeats.unexplained.slice(0, 10),
    out_of_order: verdict.outOfOrder.slice(0, 10),
    unsettled: open.slice(0, 5),
  },
};
const failures = [
  accepted.length === 0 && "nothing accepted",
  verdict.lost.length > 0 && `${verdict.lost.length} lost`,
  verdict.wrongState.length > 0 && `${verdict.wrongState.length} in a state their receiver's answers do not allow`,
  verdict.repeats.unexplained.length > 0 && `${verdict.repeats.unexplained.length} unexplained repeats`,
  verdict.outOfOrder.length > 0 && `${verdict.outOfOrder.length} out of order`,
  doubles.different > 0 && `${doubles.different} repeated sends answered another event id`,
  refused.size > 0 && `requests refused: ${JSON.stringify(Object.fromEntries(refused))}`,
  open.length > 0 && `${open.length} events still unsettled`,
  depth.waiting > 0 && `queue not drained (${depth.waiting} waiting)`,
  judgedMemory && leaking.length > 0 && `RSS growing: ${leaking.map((m) => m.process).join(", ")}`,
].filter((f): f is string => typeof f === "string");

console.log(`\nSoak ${report.mode}, ${report.date}`);
console.table({
  events: `${accepted.length} accepted of ${sends.length} sent (${gaveUp.length} given up, ${doubles.sent} sent twice)`,
  lost: verdict.lost.length,
  "wrong state": verdict.wrongState.length,
  "dead though received (outcome lost to a disruption)": verdict.receivedNotRecorded,
  repeats: `${JSON.stringify(verdict.repeats.explained)}, ${verdict.repeats.unexplained.length} unexplained`,
  "out of order": verdict.outOfOrder.length,
  "first attempt": `p50 ${report.first_attempt_ms.p50} ms, p99 ${report.first_attempt_ms.p99} ms`,
  drained: `${drainedAfterS} s after sending; ${depth.waiting} waiting (${depth.invisible} invisible left over), unsettled ${open.length}`,
});
console.table(verdict.states);
console.table(memory.map(({ series: _, ...m }) => m));
console.log(JSON.stringify(report.examples, null, 1));
const resultsDir = quick ? tmpdir() : fileURLToPath(new URL("../../bench/results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const out = join(resultsDir, `soak-${report.date.slice(0, 10)}${quick ? "-quick" : ""}.json`);
writeFileSync(out, `${JSON.stringify({ ...report, verdict: failures.length ? failures : "pass" }, null, 1)}\n`);
console.log(`report: ${out}`);
console.log(failures.length ? `FAIL: ${failures.join("; ")}` : "PASS");

// ---- Stop everything, last started first ---------------------------------------------------------------------------

await receivers.close();
directClients.destroy();
for (const s of [...slots].reverse()) await down(s, "SIGKILL");
rmSync(dataDir, { recursive: true, force: true });
process.exit(failures.length ? 1 : 0);
