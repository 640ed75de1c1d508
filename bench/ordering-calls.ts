/**
 * Where an ordered delivery's time goes: the worker's DynamoDB and SQS calls, counted and timed by a proxy in front
 * of the emulators, per delivery, for K keys × M events interleaved with and without `Ordering-Key`, and for one key.
 * Usage: node bench/ordering-calls.ts [keys=200] [perKey=10] [oneKey=100]
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { startBenchStack } from "./support/services.ts";

const [keys = 200, perKey = 10, oneKey = 100] = process.argv.slice(2).map(Number);

/** A proxy to `target` that names each call (operation, and whether it touches a lane or an event) and times it. */
async function countingProxy(target: string) {
  const calls = new Map<string, { n: number; ms: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const op = String(req.headers["x-amz-target"] ?? "?").split(".")[1] ?? "?";
      const text = body.toString();
      const what = text.includes("#lane#") ? " lane" : /"sk":\{"S":"evt_/.test(text) ? " event" : "";
      const started = performance.now();
      const out = request(target + (req.url ?? "/"), { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
        answer.on("end", () => {
          const c = calls.get(op + what) ?? { n: 0, ms: 0 };
          calls.set(op + what, { n: c.n + 1, ms: c.ms + performance.now() - started });
        });
      });
      out.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => server.close() };
}

// Ingestion unthrottled: the default per-tenant rate answers most of the sends 429.
const stack = await startBenchStack({ LOG_LEVEL: "warn", INGEST_RATE_PER_S: "1000000", INGEST_BURST: "1000000" });
const dynamo = await countingProxy(stack.emulators.dynamoEndpoint);
const sqs = await countingProxy(stack.emulators.sqsEndpoint);
let received = new Map<string, number>();
const receiver = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    received.set(req.url!, (received.get(req.url!) ?? 0) + 1);
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
const admin = { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" };

async function run(name: string, k: number, m: number, keyed: boolean) {
  const res = await fetch(`${stack.apiUrl}/admin/tenants`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ name, endpoints: [{ url: `${receiverUrl}/${name}` }] }),
  });
  const { api_key } = (await res.json()) as { api_key: string };
  for (let n = 0; n < m; n++) {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(16, k) }, async () => {
        for (let i = next++; i < k; i = next++) {
          const r = await fetch(`${stack.apiUrl}/v1/events`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${api_key}`,
              "content-type": "application/json",
              ...(keyed ? { "ordering-key": `k${i}` } : {}),
            },
            body: JSON.stringify({ type: "bench.ordering", data: { i, n } }),
          });
          if (r.status !== 201) throw new Error(`ingest answered ${r.status}`);
        }
      }),
    );
  }
  received = new Map();
  dynamo.calls.clear();
  sqs.calls.clear();
  const worker = await stack.startWorker({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.url, AWS_ENDPOINT_URL_SQS: sqs.url });
  const started = performance.now();
  while ((received.get(`/${name}`) ?? 0) < k * m) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - started) / 1000;
  worker.kill("SIGTERM");
  await new Promise((r) => worker.once("exit", r));
  const total = k * m;
  console.log(
    `\n${name}: ${k} keys × ${m}${keyed ? "" : " (no keys)"}: ${(total / seconds).toFixed(0)}/s from the worker's start`,
  );
  for (const [side, calls] of [
    ["dynamodb", dynamo.calls],
    ["sqs", sqs.calls],
  ] as const) {
    let perDelivery = 0;
    for (const [op, c] of [...calls].sort()) {
      perDelivery += c.ms / total;
      console.log(
        `  ${side} ${op.padEnd(18)} ${(c.n / total).toFixed(2).padStart(6)} per delivery, ${(c.ms / c.n).toFixed(1).padStart(5)} ms each`,
      );
    }
    console.log(`  ${side} time per delivery (summed): ${perDelivery.toFixed(1)} ms`);
  }
}

try {
  await run("plain", keys, perKey, false);
  await run("keyed", keys, perKey, true);
  await run("one", 1, oneKey, true);
} finally {
  dynamo.close();
  sqs.close();
  receiver.close();
  await stack.stop();
}
