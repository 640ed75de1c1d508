/**
 * `npm run bench` › cost: what an event costs the AWS bill. The API and a worker run as deployed processes on AWS's
 * DynamoDB Local (which reports capacity as AWS bills it, index writes included; dynalite leaves those out) and
 * fauxqs, each behind a proxy in this process: the DynamoDB one asks every call for `ReturnConsumedCapacity: INDEXES`
 * and sums what comes back, the SQS one counts requests. Scenarios: one endpoint, five, a first attempt refused
 * once, 2 KiB and 64 KiB payloads. Priced from the list prices below. Alone: `node bench/cost.ts [--quick]`.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { startSqsEmulator } from "../services/local/emulators.ts";
import { startDynamoDbLocal } from "../test/support/external-emulators.ts";
import { orderPayload } from "./support/payload.ts";
import { startBenchStack } from "./support/services.ts";

/** us-east-1 list prices, read on 2026-12-06 (on-demand as cut on 2024-11-01; provisioned unchanged since). */
export const prices = {
  date: "2026-12-06",
  region: "us-east-1",
  onDemandPerMillionWrites: 0.625,
  onDemandPerMillionReads: 0.125,
  provisionedPerWcuHour: 0.00065,
  provisionedPerRcuHour: 0.00013,
  /** Auto scaling's usual target: a provisioned unit is paid for, and used 70% of each hour. */
  provisionedUtilisation: 0.7,
  sqsPerMillionRequests: 0.4,
} as const;

const readOps = new Set(["GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"]);

interface Units {
  readonly CapacityUnits?: number;
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
}
interface Capacity extends Units {
  readonly Table?: Units;
  readonly GlobalSecondaryIndexes?: Record<string, Units>;
}

/**
 * The capacity a DynamoDB answer reports, into `units` by operation (`${op} write` or `${op} read`) and the write
 * units into `places` by where they were spent (`table` or an index's name).
 */
function charge(
  units: Map<string, number>,
  places: Map<string, number>,
  op: string,
  answer: { ConsumedCapacity?: Capacity | Capacity[] },
) {
  const add = (m: Map<string, number>, key: string, n: number) => n && m.set(key, (m.get(key) ?? 0) + n);
  const split = (u: Units | undefined) => ({
    read: u?.ReadCapacityUnits ?? (readOps.has(op) ? (u?.CapacityUnits ?? 0) : 0),
    write: u?.WriteCapacityUnits ?? (readOps.has(op) ? 0 : (u?.CapacityUnits ?? 0)),
  });
  for (const c of [answer.ConsumedCapacity ?? []].flat()) {
    const { read, write } = split(c);
    add(units, `${op} read`, read);
    add(units, `${op} write`, write);
    add(places, "table", split(c.Table).write);
    for (const [index, u] of Object.entries(c.GlobalSecondaryIndexes ?? {})) add(places, index, split(u).write);
  }
}

/** A proxy to `target`; `dynamodb` asks each call for its capacity and sums it; every call is counted by operation. */
async function meteringProxy(target: string, dynamodb: boolean) {
  const calls = new Map<string, number>();
  const units = new Map<string, number>();
  const places = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const op = String(req.headers["x-amz-target"] ?? "?").split(".")[1] ?? "?";
      calls.set(op, (calls.get(op) ?? 0) + 1);
      let body = Buffer.concat(chunks);
      if (dynamodb && op !== "?") {
        const parsed = JSON.parse(body.toString()) as Record<string, unknown>;
        body = Buffer.from(JSON.stringify({ ...parsed, ReturnConsumedCapacity: "INDEXES" }));
      }
      const headers = { ...req.headers, "content-length": String(body.length) };
      const out = request(target + (req.url ?? "/"), { method: req.method, headers }, (answer) => {
        const parts: Buffer[] = [];
        answer.on("data", (c: Buffer) => parts.push(c));
        answer.on("end", () => {
          const text = Buffer.concat(parts);
          if (dynamodb && (answer.statusCode ?? 500) < 300)
            charge(
              units,
              places,
              op,
              JSON.parse(text.toString() || "{}") as { ConsumedCapacity?: Capacity | Capacity[] },
            );
          res.writeHead(answer.statusCode ?? 500, answer.headers).end(text);
        });
      });
      out.on("error", () => res.writeHead(502).end());
      out.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const total = (m: Map<string, number>, match = "") =>
    [...m].filter(([k]) => k.endsWith(match)).reduce((sum, [, n]) => sum + n, 0);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    units,
    places,
    writes: () => total(units, " write"),
    reads: () => total(units, " read"),
    requests: () => total(calls),
    reset: () => (calls.clear(), units.clear(), places.clear()),
    close: () => server.close(),
  };
}

export interface CostRow {
  readonly scenario: string;
  readonly events: number;
  readonly deliveries: number;
  readonly write_units_per_event: number;
  readonly read_units_per_event: number;
  readonly sqs_requests_per_event: number;
  readonly usd_per_million_events_on_demand: number;
  readonly usd_per_million_events_provisioned: number;
  /** Units per event, by operation (what to cut). */
  readonly write_units_by_call: Record<string, number>;
  readonly read_units_by_call: Record<string, number>;
  /** Write units per event, by the table and each index. */
  readonly write_units_by_place: Record<string, number>;
}

export function usdPerMillion(wcu: number, rcu: number, sqs: number) {
  const p = prices;
  const hourly = (perHour: number) => (1e6 / (3600 * p.provisionedUtilisation)) * perHour;
  const queue = sqs * p.sqsPerMillionRequests;
  return {
    onDemand: wcu * p.onDemandPerMillionWrites + rcu * p.onDemandPerMillionReads + queue,
    provisioned: wcu * hourly(p.provisionedPerWcuHour) + rcu * hourly(p.provisionedPerRcuHour) + queue,
  };
}

export async function costBench(opts: {
  quick: boolean;
  row: (what: string, value: string, ceiling?: string, ratio?: string) => void;
}): Promise<CostRow[] | string> {
  let ddb;
  try {
    ddb = await startDynamoDbLocal();
  } catch (err) {
    return `skipped: ${(err as Error).message}`;
  }
  // Everything started is stopped, last first, however far the run got.
  const started: (() => unknown)[] = [() => ddb.stop()];
  const out: CostRow[] = [];
  try {
    const sqsEmulator = await startSqsEmulator(0);
    started.push(() => sqsEmulator.stop());
    const dynamo = await meteringProxy(ddb.endpoint, true);
    const sqs = await meteringProxy(sqsEmulator.endpoint, false);
    started.push(dynamo.close, sqs.close);
    // The receiver refuses the first attempt of every fourth delivery whose path asks it to ("/refuse-once/…"): all
    // of them would open the endpoint's circuit, and the figure would be the breaker's, not a retry's.
    const seen = new Set<string>();
    let delivered = 0;
    const receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const id = `${req.url}\n${String(req.headers["webhook-id"])}`;
        if (req.url?.startsWith("/refuse-once") && !seen.has(id)) {
          seen.add(id);
          if (seen.size % 4 === 1) return res.writeHead(500).end();
        }
        delivered++;
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    started.push(() => receiver.close());
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const stack = await startBenchStack(
      // Pollers wait on an empty queue as deployed (20 s), so idle polls barely count.
      { RETRY_SCHEDULE: "1s,1s", LOG_LEVEL: "warn", SQS_WAIT_TIME_S: "20" },
      { dynamoEndpoint: dynamo.url, sqsEndpoint: sqs.url, stop: () => Promise.resolve() },
    );
    started.push(() => stack.stop());
    await stack.startWorker();
    const admin = { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" };
    const scenarios = [
      { scenario: "one endpoint, 1 KiB", endpoints: 1, kib: 1, path: "/ok" },
      { scenario: "five endpoints, 1 KiB", endpoints: 5, kib: 1, path: "/ok" },
      {
        scenario: "one endpoint, a quarter of first attempts refused (500)",
        endpoints: 1,
        kib: 1,
        path: "/refuse-once",
      },
      { scenario: "one endpoint, 2 KiB", endpoints: 1, kib: 2, path: "/ok" },
      { scenario: "one endpoint, 64 KiB", endpoints: 1, kib: 64, path: "/ok" },
    ];
    // --quick (CI) keeps the harness from rotting with the first.
    for (const s of opts.quick ? scenarios.slice(0, 1) : scenarios) {
      const events = opts.quick ? 20 : s.endpoints > 1 ? 100 : 200;
      const res = await fetch(`${stack.apiUrl}/admin/tenants`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({
          name: s.scenario,
          endpoints: Array.from({ length: s.endpoints }, (_, i) => ({ url: `${receiverUrl}${s.path}/${i}` })),
        }),
      });
      const { api_key } = (await res.json()) as { api_key: string };
      const body = orderPayload("bench.cost", s.kib * 1024);
      await new Promise((r) => setTimeout(r, 1000));
      dynamo.reset();
      sqs.reset();
      const deliveredBefore = delivered;
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = next++; i < events; i = next++) {
            const r = await fetch(`${stack.apiUrl}/v1/events`, {
              method: "POST",
              headers: { authorization: `Bearer ${api_key}`, "content-type": "application/json" },
              body,
            });
            if (r.status !== 201) throw new Error(`ingest answered ${r.status}`);
          }
        }),
      );
      const deliveries = events * s.endpoints;
      const deadline = Date.now() + 120_000;
      while (delivered - deliveredBefore < deliveries && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      if (delivered - deliveredBefore < deliveries) throw new Error(`${s.scenario}: not every delivery arrived`);
      // The outcomes and attempt records written after the last POST was answered.
      for (let quiet = 0, last = -1; quiet < 4 && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 250));
        quiet = dynamo.writes() === last ? quiet + 1 : 0;
        last = dynamo.writes();
      }
      const wcu = dynamo.writes() / events;
      const rcu = dynamo.reads() / events;
      const requests = sqs.requests() / events;
      const usd = usdPerMillion(wcu, rcu, requests);
      const byCall = (kind: string) =>
        Object.fromEntries(
          [...dynamo.units].filter(([k]) => k.endsWith(kind)).map(([k, n]) => [k.slice(0, -kind.length), n / events]),
        );
      out.push({
        scenario: s.scenario,
        events,
        deliveries,
        write_units_per_event: wcu,
        read_units_per_event: rcu,
        sqs_requests_per_event: requests,
        usd_per_million_events_on_demand: usd.onDemand,
        usd_per_million_events_provisioned: usd.provisioned,
        write_units_by_call: byCall(" write"),
        read_units_by_call: byCall(" read"),
        write_units_by_place: Object.fromEntries([...dynamo.places].map(([k, n]) => [k, n / events])),
      });
      opts.row(
        `cost, ${s.scenario}: WCU / RCU / SQS requests per event`,
        `${wcu.toFixed(1)} / ${rcu.toFixed(1)} / ${requests.toFixed(1)}`,
        `$ per M events ${usd.onDemand.toFixed(2)} on-demand, ${usd.provisioned.toFixed(2)} provisioned`,
        Object.entries(byCall(" write"))
          .map(([k, n]) => `${k} ${n.toFixed(1)}`)
          .join(", "),
      );
      opts.row(
        "  write units per event, table / indexes",
        [...dynamo.places].map(([k, n]) => `${k} ${(n / events).toFixed(1)}`).join(", "),
      );
      const base = out[0];
      if (s.path === "/refuse-once" && base)
        opts.row(
          // SQS requests per event move with how sends happen to batch; no difference of them is read here.
          "  one retry, beside the first row: WCU / RCU",
          [wcu - base.write_units_per_event, rcu - base.read_units_per_event]
            .map((n) => (n * 4).toFixed(1))
            .join(" / "),
        );
    }
  } finally {
    for (const stop of started.reverse()) await stop();
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const rows = await costBench({
    quick: process.argv.includes("--quick"),
    row: (what, value, ceiling = "", ratio = "") => console.log(`${what}: ${value}  (${ceiling}; ${ratio})`),
  });
  if (typeof rows === "string") console.log(rows);
}
