/**
 * `npm run test:load`: N events (default 20,000) through the API at the rate the machine holds, a receiver
 * failing 10% of first attempts, then a verify pass: every accepted event delivered exactly once.
 * Bounded: sending stops after LOAD_SECONDS (default 60); the verify pass waits at most 120 s.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startBenchStack } from "../../bench/support/services.ts";

const total = Number(process.env.LOAD_EVENTS ?? 20_000);
const maxSendMs = Number(process.env.LOAD_SECONDS ?? 60) * 1000;
const concurrency = 64;

const successes = new Map<number, number>();
const firstAttemptFailed = new Set<number>();
let postsReceived = 0;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    postsReceived++;
    const { seq } = JSON.parse(Buffer.concat(chunks).toString()) as { seq: number };
    // Every tenth event fails its first attempt.
    if (seq % 10 === 0 && !firstAttemptFailed.has(seq)) {
      firstAttemptFailed.add(seq);
      return res.writeHead(500).end();
    }
    successes.set(seq, (successes.get(seq) ?? 0) + 1);
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const stack = await startBenchStack({
  RETRY_SCHEDULE: "1s,1s,1s",
  INGEST_RATE_PER_S: "100000",
  INGEST_BURST: "100000",
  WORKER_CONCURRENCY: "60",
});
try {
  await stack.startWorker();
  const admin = { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" };
  const tenant = (await (
    await fetch(`${stack.apiUrl}/admin/tenants`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "load", endpoints: [{ url: receiverUrl }] }),
    })
  ).json()) as { api_key: string };
  const auth = { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" };

  const accepted = new Set<number>();
  const refused = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && performance.now() - started < maxSendMs) {
        const seq = next++;
        const res = await fetch(`${stack.apiUrl}/v1/events`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ type: "load.test", seq, pad: "x".repeat(900) }),
        });
        await res.arrayBuffer();
        if (res.status === 201) accepted.add(seq);
        else refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
      }
    }),
  );
  const sendS = (performance.now() - started) / 1000;
  const deadline = Date.now() + 120_000;
  while ([...accepted].some((s) => !successes.has(s)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 250));
  const drainS = (performance.now() - started) / 1000;
  const lost = [...accepted].filter((s) => !successes.has(s)).length;
  const duplicates = [...successes.values()].filter((c) => c > 1).length;
  const figures = {
    events_sent: next,
    accepted: accepted.size,
    refused: Object.fromEntries(refused),
    ingest_per_s: Math.round(accepted.size / sendS),
    delivered: [...accepted].filter((s) => successes.has(s)).length,
    duplicates,
    lost,
    first_attempts_failed_by_receiver: firstAttemptFailed.size,
    posts_received: postsReceived,
    send_seconds: Number(sendS.toFixed(1)),
    all_delivered_after_seconds: Number(drainS.toFixed(1)),
  };
  console.log(JSON.stringify(figures));
  const failed = lost > 0 || duplicates > 0 || accepted.size === 0 || refused.size > 0;
  console.log(`${failed ? 0 : 1} passed, ${failed ? 1 : 0} failed`);
  process.exitCode = failed ? 1 : 0;
} finally {
  await stack.stop();
  receiver.close();
}
process.exit();
