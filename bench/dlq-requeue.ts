/**
 * Requeue of N dead messages on the local stack (API and worker as processes, emulators in memory):
 * seconds taken by one `POST /admin/dlq/requeue`, then every event checked delivered exactly once.
 * Usage: node bench/dlq-requeue.ts [N=1000]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startBenchStack } from "./support/services.ts";

const n = Number(process.argv[2] ?? 1000);
const seen = new Map<string, number>();
let failing = true;
const receiver = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (failing) return res.writeHead(500).end();
    const id = String(req.headers["webhook-id"]);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const stack = await startBenchStack({ RETRY_SCHEDULE: "100ms", WORKER_CONCURRENCY: "50" });
const admin = { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" };
const poll = async (check: () => Promise<boolean>, what: string, timeoutMs = 300_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};
try {
  await stack.startWorker();
  const tenant = (await (
    await fetch(`${stack.apiUrl}/admin/tenants`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "bench", endpoints: [{ url: receiverUrl }] }),
    })
  ).json()) as { api_key: string };
  const auth = { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" };
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < n) {
        const i = next++;
        const res = await fetch(`${stack.apiUrl}/v1/events`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ type: "bench.dlq", i }),
        });
        if (res.status !== 201) throw new Error(`ingest answered ${res.status}`);
      }
    }),
  );
  const dlqCount = async () =>
    ((await (await fetch(`${stack.apiUrl}/admin/dlq?limit=1`, { headers: admin })).json()) as { count: number }).count;
  await poll(async () => (await dlqCount()) === n, `${n} messages in the DLQ`);
  failing = false;
  const started = performance.now();
  const report = (await (
    await fetch(`${stack.apiUrl}/admin/dlq/requeue`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ max_messages: n }),
    })
  ).json()) as Record<string, number>;
  const requeueS = (performance.now() - started) / 1000;
  await poll(async () => seen.size === n || (await dlqCount()) > 0, "every requeued delivery to arrive", 120_000);
  const duplicates = [...seen.values()].filter((c) => c > 1).length;
  console.log(
    JSON.stringify({
      dead_messages: n,
      requeue_report: report,
      requeue_seconds: Number(requeueS.toFixed(2)),
      delivered: seen.size,
      lost: n - seen.size,
      duplicates,
      dlq_after: await dlqCount(),
    }),
  );
} finally {
  await stack.stop();
  receiver.close();
}
