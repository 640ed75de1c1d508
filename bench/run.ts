/**
 * `npm run bench [-- --quick]`: each scenario next to a ceiling measured the same way in the same run.
 * Emulators, API, worker(s) and ceilings are separate processes; load comes from autocannon. Prints a
 * table and writes bench/results/<date>.json. Asserts nothing about speed (CI runs --quick so it never rots).
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import {
  CreateQueueCommand,
  SendMessageBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
} from "@aws-sdk/client-sqs";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { defaultTaskSize, nodeOptionsFor } from "../infra/lib/task-size.ts";
import { createAwsClients } from "../services/aws/clients.ts";
import { provisionAll } from "../services/aws/provision.ts";
import { ensureKeyFile } from "../services/aws/secret-keys.ts";
import { tableNames } from "../services/aws/tables.ts";
import { localCredentials } from "../services/local/local-stack.ts";
import { freePort } from "../test/support/free-port.ts";
import { jsonLine, startProcess } from "../test/support/processes.ts";
import { tracingNodeFlag } from "../services/tracing/start.ts";
import { engineScenarios } from "./engine.ts";
import { orderingScenarios } from "./ordering.ts";
import { catalogBench, checkMicroseconds } from "./catalog.ts";
import { hostileSchemaBench } from "./schema-bounds.ts";
import { costBench, prices } from "./cost.ts";
import { orderPayload } from "./support/payload.ts";

const quick = process.argv.includes("--quick");
// `-- --ingestion-only`: scenario 1 alone, for trying a change to the API in two minutes.
const ingestionOnly = process.argv.includes("--ingestion-only");
// `-- --delivery-only`: scenario 2 (delivery beside the minimal pipeline) and the engine's scenarios alone.
// `-- --ordering-only`: the ordering scenario alone (keys beside no keys, one key), for trying a change to the lanes.
const orderingOnly = process.argv.includes("--ordering-only");
const deliveryOnly = orderingOnly || process.argv.includes("--delivery-only");
const seconds = quick ? 2 : 12;
const backlog = quick ? 200 : 3000;
const e2eSeconds = quick ? 3 : 20;
const grownEvents = quick ? 1000 : 100_000;
const deadMessages = quick ? 500 : 10_000;
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// The API and worker run with the V8 flags the CDK gives the tasks' containers, for the tasks' memory
// (SERVICE_NODE_OPTIONS overrides, for experiments), and as the image runs them: compiled into dist/ (the build's tsc,
// here at the start), with the entry point's --enable-source-maps. Through Node's type stripping, as `npm start` runs
// them, the API holds about 20 MB more at its peak (the stripper, and each module's TypeScript source beside its code).
const service = (role: "api" | "worker") => here(`../dist/services/${role}/main.js`);
const serviceNodeOptions = `${process.env.SERVICE_NODE_OPTIONS ?? nodeOptionsFor(defaultTaskSize.memoryLimitMiB)} --enable-source-maps`;
const children: ChildProcess[] = [];
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  quick,
  node: process.version,
  cores: 2,
  service_node_options: serviceNodeOptions,
};
const rows: [string, string, string, string][] = [];
const row = (what: string, value: string, ceiling = "", ratio = "") => {
  rows.push([what, value, ceiling, ratio]);
  process.stderr.write(`  ${what}: ${value}${ceiling ? ` (ceiling ${ceiling}, ${ratio})` : ""}\n`);
};

/** A child process (the test suite's spawner); resolves with the first JSON line it prints (when `waitJson`). */
async function start(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  waitJson = true,
): Promise<{ child: ChildProcess; info: Record<string, unknown> }> {
  const { child, info } = await startProcess(script, args, env, waitJson ? jsonLine : undefined);
  children.push(child);
  return { child, info: info ?? {} };
}
const stop = (c: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once("exit", () => resolve());
    c.kill("SIGTERM");
    setTimeout(() => c.kill("SIGKILL"), 5000).unref();
  });
const peakRssMb = (c: ChildProcess) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${c.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
/** Starts peakRssMb afresh from the process's present RSS (Linux resets VmHWM on this write). */
const resetPeakRss = (c: ChildProcess) => writeFileSync(`/proc/${c.pid}/clear_refs`, "5");
const until = async (check: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
};
const fmt = (n: number, digits = 0) => n.toFixed(digits);

// The receiver: answers 200 at once, records arrival time by the payload's seq.
const arrivals = new Map<number, number>();
let received = 0;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    received++;
    const seq = (JSON.parse(Buffer.concat(chunks).toString()) as { seq?: number }).seq;
    if (seq !== undefined) arrivals.set(seq, Date.now());
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

// A collector for the runs with tracing on: takes OTLP/HTTP exports on loopback, counts the spans, keeps nothing.
let spansExported = 0;
const collector = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    spansExported += Buffer.concat(chunks).toString().split('"spanId"').length - 1;
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
await new Promise<void>((r) => collector.listen(0, "127.0.0.1", () => r()));
const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

try {
  execFileSync(process.execPath, [here("../node_modules/typescript/bin/tsc"), "-p", here("../tsconfig.build.json")], {
    stdio: "inherit",
  });
  const emulators = await start(here("./support/emulators-process.ts"), []);
  const emu = emulators.info as { dynamo: string; sqs: string };
  const clients = createAwsClients({
    region: "us-east-1",
    endpoints: { dynamodb: emu.dynamo, sqs: emu.sqs },
    credentials: localCredentials,
  });
  const urls = await provisionAll(clients.dynamo, clients.sqs, {
    tablePrefix: "bench",
    queueName: "bench",
    dlqName: "bench-dlq",
    visibilityTimeoutS: 60,
    maxAttempts: 6,
  });
  const minimal = await provisionAll(clients.dynamo, clients.sqs, {
    tablePrefix: "bench",
    queueName: "bench-minimal",
    dlqName: "bench-minimal-dlq",
    visibilityTimeoutS: 60,
    maxAttempts: 6,
  });
  const tables = tableNames("bench");
  const depth = async (url: string) => {
    const { Attributes: a } = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return Number(a?.ApproximateNumberOfMessages ?? 0) + Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0);
  };
  const adminToken = "bench-admin-token-0123456789abcdef";
  const secretsKey = join(mkdtempSync(join(tmpdir(), "bench-key-")), "secrets.key");
  await ensureKeyFile(secretsKey);
  const env = {
    SECRETS_KEY_FILE: secretsKey,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: emu.dynamo,
    AWS_ENDPOINT_URL_SQS: emu.sqs,
    TABLE_PREFIX: "bench",
    DELIVERY_QUEUE: urls.queueUrl,
    DEAD_LETTER_QUEUE: urls.dlqUrl,
    ADMIN_TOKEN: adminToken,
    ALLOW_PRIVATE_TARGETS: "true",
    INGEST_RATE_PER_S: "1000000",
    INGEST_BURST: "1000000",
    // The list's latency is measured, not the read limit (which would answer most of autocannon's requests 429).
    TENANT_READ_RATE_PER_S: "1000000",
    TENANT_READ_BURST: "1000000",
    SQS_WAIT_TIME_S: "1",
    METRICS_PORT: "0",
    // AWS destinations into the SQS emulator's own queues, as `npm start` does (it has no STS: called as the worker).
    AWS_ENDPOINT_URL_DESTINATIONS: emu.sqs,
    DESTINATION_ASSUME_ROLE: "false",
    DESTINATION_PRINCIPAL_ARN: "arn:aws:iam::000000000000:role/webhooks-worker",
    NODE_OPTIONS: serviceNodeOptions,
  };
  const apiPort = await freePort();
  const api = (await start(service("api"), [], { ...env, PORT: String(apiPort) }, false)).child;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await until(async () => (await fetch(`${apiUrl}/healthz`).catch(() => undefined))?.ok === true, 20_000);
  // The same API with tracing on (every request sampled, exported to the collector above), beside it.
  // With the flag the CDK stack gives traced tasks (services/tracing/start.ts says why).
  const tracedEnv = {
    ...env,
    OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
    NODE_OPTIONS: `${env.NODE_OPTIONS} ${tracingNodeFlag}`,
  };
  const tracedApiPort = await freePort();
  await start(service("api"), [], { ...tracedEnv, PORT: String(tracedApiPort) }, false);
  const tracedApiUrl = `http://127.0.0.1:${tracedApiPort}`;
  await until(async () => (await fetch(`${tracedApiUrl}/healthz`).catch(() => undefined))?.ok === true, 20_000);
  const admin = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const tenant = (await (
    await fetch(`${apiUrl}/admin/tenants`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "bench", endpoints: [{ url: receiverUrl }] }),
    })
  ).json()) as { api_key: string; tenant_id: string };
  const auth = { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" };
  const body = orderPayload("bench.event", 1024);

  const cannon = (url: string, connections: number, opts: Partial<autocannon.Options> = {}) =>
    autocannon({ url, connections, duration: seconds, method: "POST", headers: auth, body, ...opts });

  // 1. Ingestion, with ceilings (a) bare Express and (b) the naive PutItem + SendMessage path.
  const bare = (await start(here("./ceilings/bare-express.ts"), [])).info.port as number;
  const naive = (await start(here("./ceilings/naive-storage.ts"), [emu.dynamo, emu.sqs, tables.events, minimal.dlqUrl]))
    .info.port as number;
  const shaped = (
    await start(here("./ceilings/naive-storage.ts"), [emu.dynamo, emu.sqs, tables.events, minimal.dlqUrl, "shaped"])
  ).info.port as number;
  const ingestion: Record<string, unknown> = {};
  type Run = { rps: number; p50: number; p99: number; non2xx: number };
  const targets = {
    bare_express: `http://127.0.0.1:${bare}/v1/events`,
    naive_storage: `http://127.0.0.1:${naive}/v1/events`,
    naive_same_item: `http://127.0.0.1:${shaped}/v1/events`,
    api: `${apiUrl}/v1/events`,
    api_tracing_on: `${tracedApiUrl}/v1/events`,
  };
  // Each server is warmed first (JIT, sockets, the tables' first items), uncounted: a cold first run measured start-up,
  // and only ours paid it. Then rounds, each in another order (neither always on a warmer or busier machine), and the
  // best round of each kept: one run per server swung ±30% with the machine.
  const names = Object.keys(targets) as (keyof typeof targets)[];
  if (!deliveryOnly) for (const name of names) await cannon(targets[name], 32, { duration: quick ? 1 : 4 });
  const rounds = quick ? 1 : 2;
  let spans = 0;
  for (const c of deliveryOnly ? [] : [1, 32, 128]) {
    const best: Partial<Record<keyof typeof targets, Run>> = {};
    resetPeakRss(api);
    for (let r = 0; r < rounds; r++)
      for (const name of r % 2 === 0 ? names : [...names].reverse()) {
        if (c === 1 && name !== "api" && name !== "naive_storage") continue;
        const spansBefore = spansExported;
        const out = await cannon(targets[name], c, c === 1 ? { duration: quick ? 1 : 5 } : {});
        if (name === "api_tracing_on") spans = spansExported - spansBefore;
        const run = { rps: out.requests.average, p50: out.latency.p50, p99: out.latency.p99, non2xx: out.non2xx };
        if (run.rps > (best[name]?.rps ?? -1)) best[name] = run;
      }
    const [ours, b] = [best.api!, best.naive_storage!];
    const rssMb = peakRssMb(api);
    ingestion[`c${c}`] = {
      ...best,
      rounds,
      api_peak_rss_mb: rssMb,
      ...(best.api_tracing_on ? { spans_exported: spans } : {}),
    };
    if (c === 1) {
      row("ingest c=1, p50/p99 ms", `${ours.p50}/${ours.p99}`, `naive ${b.p50}/${b.p99}`);
      continue;
    }
    const [a, same, traced] = [best.bare_express!, best.naive_same_item!, best.api_tracing_on!];
    row(
      `ingest c=${c} req/s (p50/p99 ms)`,
      `${fmt(ours.rps)} (${ours.p50}/${ours.p99})`,
      `naive ${fmt(b.rps)}, bare ${fmt(a.rps)}`,
      `${fmt(ours.rps / b.rps, 2)}x naive`,
    );
    row(`  naive with our item, c=${c}`, fmt(same.rps), "", `${fmt(ours.rps / same.rps, 2)}x it`);
    row(
      `  tracing on, c=${c} (p50/p99 ms)`,
      `${fmt(traced.rps)} (${traced.p50}/${traced.p99})`,
      `off ${fmt(ours.rps)}`,
      `${fmt(traced.rps / ours.rps, 2)}x off, ${fmt(traced.rps / b.rps, 2)}x naive`,
    );
    row(`  API peak RSS MB, c=${c}`, fmt(rssMb), c === 128 ? "150" : "");
  }
  results.ingestion = ingestion;
  if (!deliveryOnly) {
    // 1b. The event catalog: a schema checked at ingestion, content filters at fan-out, each beside none.
    const catalog = await catalogBench({ apiUrl, adminToken, receiverUrl, seconds, rounds: quick ? 1 : 4 });
    const checkUs = checkMicroseconds();
    results.catalog = { ...catalog, check_1kib_us: checkUs };
    row(
      "ingest 1 KiB, schema checked, req/s",
      fmt(catalog.schema.with),
      `no schema ${fmt(catalog.schema.without)}`,
      `${fmt(catalog.schema.with / catalog.schema.without, 2)}x`,
    );
    row("  the check alone, 1 KiB, µs", fmt(checkUs, 1));
    row(
      "ingest, fan-out to 50 filtered, req/s",
      fmt(catalog.filters.with),
      `unfiltered ${fmt(catalog.filters.without)}`,
      `${fmt(catalog.filters.with / catalog.filters.without, 2)}x`,
    );
    // 1c. Hostile schemas at the edge of the bounds, on 256 KiB payloads built to be their worst (in this process).
    const hostile = await hostileSchemaBench();
    results.hostile_schemas = hostile;
    for (const c of hostile.cases)
      row(`  schema: ${c.name}`, `${fmt(c.worst_check_ms, 2)} ms`, "10 ms", `compile ${fmt(c.compile_ms, 1)} ms`);
  }
  results.api_peak_rss_mb_after_ingestion = peakRssMb(api);
  const startWorker = async (extra: Record<string, string>) => {
    const port = await freePort();
    const { child } = await start(
      service("worker"),
      [],
      { ...env, METRICS_PORT: String(port), LOG_LEVEL: "warn", ...extra },
      false,
    );
    await until(
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true,
      20_000,
    );
    return child;
  };
  // Ordered delivery per key beside the same load without keys; one key's stream beside its POST round trip.
  const ordering = async () => {
    await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: urls.queueUrl }));
    return orderingScenarios({
      quick,
      apiUrl,
      adminToken,
      emulators: emulators.child,
      startWorker,
      stop,
      row,
    });
  };
  if (ingestionOnly) row("API peak RSS MB, all of scenario 1", fmt(peakRssMb(api)));
  else if (orderingOnly) results.ordering = await ordering();
  else {
    // 2. Delivery: drain a backlog with 1 and 2 workers, next to the minimal pipeline.
    // With tracing on, the backlog comes through the traced API, so each message carries a trace context.
    const refill = async (traced: boolean, headers = auth) => {
      await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: urls.queueUrl }));
      await until(async () => (await depth(urls.queueUrl)) === 0, 10_000);
      await autocannon({
        url: `${traced ? tracedApiUrl : apiUrl}/v1/events`,
        connections: 64,
        amount: backlog,
        method: "POST",
        headers,
        body,
      });
    };
    // What a drain counts: the receiver's requests, or (an AWS destination) the messages in its queue.
    type Sink = { headers: typeof auth; delivered: () => number | Promise<number> };
    const httpSink: Sink = { headers: auth, delivered: () => received };
    const drain = async (workers: number, traced = false, extra: Record<string, string> = {}, sink = httpSink) => {
      await refill(traced, sink.headers);
      const before = await sink.delivered();
      const started = performance.now();
      const procs = await Promise.all(
        Array.from({ length: workers }, async () => {
          const port = await freePort();
          return (
            await start(
              service("worker"),
              [],
              { ...(traced ? tracedEnv : env), ...extra, METRICS_PORT: String(port), LOG_LEVEL: "warn" },
              false,
            )
          ).child;
        }),
      );
      let delivered = 0;
      await until(async () => (delivered = (await sink.delivered()) - before) >= backlog, 300_000);
      const s = (performance.now() - started) / 1000;
      const rss = procs.map(peakRssMb);
      await Promise.all(procs.map(stop));
      return { per_s: delivered / s, peak_rss_mb: Math.max(...rss) };
    };
    for (let i = 0; i < backlog; i += 10) {
      await clients.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: minimal.queueUrl,
          Entries: Array.from({ length: 10 }, (_, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify({ eventId: `m${i + j}` }),
          })),
        }),
      );
    }
    // The ceiling works with the worker's default in-flight capacity.
    const pipeline = (
      await start(here("./ceilings/minimal-pipeline.ts"), [
        emu.dynamo,
        emu.sqs,
        tables.events,
        minimal.queueUrl,
        receiverUrl,
        "500",
      ])
    ).info as { delivered: number; seconds: number };
    const ceilingPerS = pipeline.delivered / pipeline.seconds;
    const one = await drain(1);
    // The same backlog into an SQS destination (a queue on the emulator, as `npm start` delivers), one worker, right
    // after the HTTP drain it is set beside, so both meet the emulators in the same state.
    const destinationQueue = (await clients.sqs.send(new CreateQueueCommand({ QueueName: "bench-destination" })))
      .QueueUrl!;
    const sqsTenant = (await (
      await fetch(`${apiUrl}/admin/tenants`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({
          name: "bench-sqs",
          endpoints: [
            { type: "aws_sqs", target: destinationQueue, role_arn: "arn:aws:iam::000000000000:role/webhooks-bench" },
          ],
        }),
      })
    ).json()) as { api_key: string };
    const toSqs = await drain(
      1,
      false,
      {},
      {
        headers: { ...auth, authorization: `Bearer ${sqsTenant.api_key}` },
        delivered: () => depth(destinationQueue),
      },
    );
    // One tenant, one endpoint: the per-endpoint cap (50 in flight) binds. The same with the caps at the worker's
    // capacity, as the minimal pipeline runs, measures the engine itself.
    const uncapped = await drain(1, false, { ENDPOINT_MAX_IN_FLIGHT: "500", TENANT_MAX_IN_FLIGHT: "500" });
    const two = await drain(2);
    const spansBefore = spansExported;
    const tracedOne = await drain(1, true);
    results.delivery = {
      backlog,
      minimal_pipeline_per_s: ceilingPerS,
      one_worker: one,
      one_worker_caps_500: uncapped,
      two_workers: two,
      one_worker_to_sqs_destination: toSqs,
      one_worker_tracing_on: { ...tracedOne, spans_exported: spansExported - spansBefore },
    };
    row(
      `deliver ${backlog}, 1 worker /s`,
      fmt(one.per_s),
      `minimal ${fmt(ceilingPerS)}`,
      `${fmt(one.per_s / ceilingPerS, 2)}x`,
    );
    row(
      `deliver ${backlog}, 1 worker, caps 500 /s`,
      fmt(uncapped.per_s),
      `minimal ${fmt(ceilingPerS)}`,
      `${fmt(uncapped.per_s / ceilingPerS, 2)}x`,
    );
    row(
      `deliver ${backlog}, 2 workers /s`,
      fmt(two.per_s),
      `1 worker ${fmt(one.per_s)}`,
      `${fmt(two.per_s / one.per_s, 2)}x`,
    );
    row(
      `deliver ${backlog} to an SQS destination, 1 worker /s`,
      fmt(toSqs.per_s),
      `HTTP ${fmt(one.per_s)}`,
      `${fmt(toSqs.per_s / one.per_s, 2)}x HTTP`,
    );
    row(
      `deliver ${backlog}, 1 worker, tracing on /s`,
      fmt(tracedOne.per_s),
      `off ${fmt(one.per_s)}`,
      `${fmt(tracedOne.per_s / one.per_s, 2)}x off, ${fmt(tracedOne.per_s / ceilingPerS, 2)}x minimal`,
    );
    row(
      "peak RSS MB api / worker",
      `${fmt(peakRssMb(api))} / ${fmt(Math.max(one.peak_rss_mb, two.peak_rss_mb))}`,
      "150",
      "",
    );

    results.ordering = await ordering();

    // The delivery engine: slow receivers, a noisy neighbour, memory with many deliveries in flight.
    await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: urls.queueUrl }));
    results.engine = await engineScenarios({ quick, apiUrl, adminToken, startWorker, stop, peakRssMb, row });
  }
  if (!ingestionOnly && !deliveryOnly) {
    // 3. End to end at a steady 200 events/s.
    await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: urls.queueUrl }));
    const workerPort = await freePort();
    const worker = (
      await start(service("worker"), [], { ...env, METRICS_PORT: String(workerPort), LOG_LEVEL: "warn" }, false)
    ).child;
    await new Promise((r) => setTimeout(r, 1500));
    const answered = new Map<number, number>();
    const sends: Promise<void>[] = [];
    const e2eStart = Date.now();
    for (let seq = 0; Date.now() - e2eStart < e2eSeconds * 1000; seq++) {
      const due = e2eStart + seq * 5;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      sends.push(
        fetch(`${apiUrl}/v1/events`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ type: "bench.e2e", seq }),
        }).then(async (r) => {
          await r.arrayBuffer();
          if (r.status === 201) answered.set(seq, Date.now());
        }),
      );
    }
    await Promise.all(sends);
    await until(() => [...answered.keys()].every((s) => arrivals.has(s)), 60_000);
    const lat = [...answered]
      .filter(([s]) => arrivals.has(s))
      .map(([s, t]) => arrivals.get(s)! - t)
      .sort((x, y) => x - y);
    const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))] ?? NaN;
    const lost = [...answered.keys()].filter((s) => !arrivals.has(s)).length;
    results.end_to_end = {
      rate_per_s: 200,
      seconds: e2eSeconds,
      accepted: answered.size,
      p50_ms: pct(50),
      p99_ms: pct(99),
      lost,
    };
    row(
      `end to end 200/s, ${e2eSeconds}s (p50/p99 ms)`,
      `${pct(50)}/${pct(99)}`,
      "",
      `lost ${lost} of ${answered.size}`,
    );
    await stop(worker);

    // 4. Growth: ingestion and list p50 with few and with many stored events; DLQ peek with 0 and many dead.
    const p50 = async (url: string, method: "GET" | "POST", connections: number) =>
      (
        await autocannon({
          url,
          connections,
          duration: quick ? 1 : 5,
          method,
          headers: method === "GET" ? admin : auth,
          ...(method === "POST" ? { body } : {}),
        })
      ).latency.p50;
    const listUrl = `${apiUrl}/v1/events?status=PENDING&limit=20`;
    const listP50 = async () =>
      (await autocannon({ url: listUrl, connections: 8, duration: quick ? 1 : 5, headers: auth })).latency.p50;
    // The DLQ baseline is one page of dead messages (an empty DLQ's peek does no work at all).
    const deadPage = 20;
    const fillDlq = async (from: number, to: number) => {
      for (let i = from; i < to; i += 10) {
        await clients.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: urls.dlqUrl,
            Entries: Array.from({ length: 10 }, (_, j) => ({
              Id: String(j),
              MessageBody: JSON.stringify({ tenantId: tenant.tenant_id, eventId: `evt_D${i + j}`, endpointId: "ep_x" }),
            })),
          }),
        );
      }
    };
    await fillDlq(0, deadPage);
    const small = {
      ingest_p50: await p50(`${apiUrl}/v1/events`, "POST", 32),
      list_p50: await listP50(),
      dlq_peek_p50: await p50(`${apiUrl}/admin/dlq?limit=20`, "GET", 1),
    };
    const now = Date.now();
    const preloadStarted = performance.now();
    const batchOf = (i: number) =>
      new BatchWriteCommand({
        RequestItems: {
          [tables.events]: Array.from({ length: 25 }, (_, j) => {
            const id = `evt_G${String(i + j).padStart(25, "0")}`;
            const item = {
              tenantId: tenant.tenant_id,
              sk: id,
              eventId: id,
              createdAt: new Date(now - i - j).toISOString(),
              status: "PENDING",
              tenantStatus: `${tenant.tenant_id}#PENDING`,
              version: 0,
              deliveries: {},
              bodyHash: "",
              body: Buffer.from("{}"),
            };
            return { PutRequest: { Item: item } };
          }),
        },
      });
    // Eight writers at once: the emulator, not the round trips, sets the pace.
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = (next += 25) - 25; i < grownEvents; i = (next += 25) - 25) await clients.ddb.send(batchOf(i));
      }),
    );
    await fillDlq(deadPage, deadMessages);
    results.preload_seconds = (performance.now() - preloadStarted) / 1000;
    const grown = {
      ingest_p50: await p50(`${apiUrl}/v1/events`, "POST", 32),
      list_p50: await listP50(),
      dlq_peek_p50: await p50(`${apiUrl}/admin/dlq?limit=20`, "GET", 1),
    };
    results.growth = { stored_events_added: grownEvents, dead_messages: deadMessages, before: small, after: grown };
    const ratio = (a: number, b: number) => `${fmt(b / Math.max(a, 0.5), 2)}x`;
    row(
      `ingest p50 ms, +${grownEvents} events`,
      `${small.ingest_p50} -> ${grown.ingest_p50}`,
      "",
      ratio(small.ingest_p50, grown.ingest_p50),
    );
    row(
      `list p50 ms, +${grownEvents} events`,
      `${small.list_p50} -> ${grown.list_p50}`,
      "",
      ratio(small.list_p50, grown.list_p50),
    );
    row(
      `DLQ peek p50 ms, ${deadPage} -> ${deadMessages} dead`,
      `${small.dlq_peek_p50} -> ${grown.dlq_peek_p50}`,
      "",
      ratio(small.dlq_peek_p50, grown.dlq_peek_p50),
    );
    results.api_peak_rss_mb = peakRssMb(api);
    // 5. Cost: DynamoDB capacity units and SQS requests per event, on DynamoDB Local (Java) with its own API and worker.
    const cost = await costBench({ quick, row });
    results.cost = { prices, scenarios: cost };
    if (typeof cost === "string") row("cost per event", cost);
  }
  clients.destroy();
} finally {
  await Promise.all(children.map(stop));
  receiver.close();
  collector.close();
}

const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), 8));
console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ")).join("\n"));
mkdirSync(here("./results"), { recursive: true });
const file = here(`./results/${new Date().toISOString().slice(0, 19).replace(/:/g, "-")}${quick ? "-quick" : ""}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`results: ${file}`);
