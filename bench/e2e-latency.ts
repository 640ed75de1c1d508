/**
 * End-to-end latency on a running local stack (`npm start` in another shell): for N events sent one at a
 * time, the time from the API's 201 to the moment the worker's POST reached the receiver (attempt start).
 * Usage: node bench/e2e-latency.ts [N=20]
 */
import { readFileSync } from "node:fs";

const n = Number(process.argv[2] ?? 20);
const api = process.env.API_URL ?? "http://127.0.0.1:3000";
const { apiKey } = JSON.parse(readFileSync(".data/demo.json", "utf8")) as { apiKey: string };
const auth = { authorization: `Bearer ${apiKey}` };

const samples: number[] = [];
for (let i = 0; i < n; i++) {
  const res = await fetch(`${api}/v1/events`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ type: "bench.latency", i }),
  });
  const answeredAt = Date.now();
  const { event_id } = (await res.json()) as { event_id: string };
  for (;;) {
    const event = (await (await fetch(`${api}/v1/events/${event_id}`, { headers: auth })).json()) as {
      status: string;
      deliveries: { attempt_log: { at: string }[] }[];
    };
    const at = event.deliveries[0]?.attempt_log[0]?.at;
    if (event.status !== "PENDING" && at) {
      samples.push(Date.parse(at) - answeredAt);
      break;
    }
    // The attempt's own time is measured, so polling need not be fast: every 100 ms stays under the read limit.
    await new Promise((r) => setTimeout(r, 100));
  }
}
samples.sort((a, b) => a - b);
const median = (samples[Math.floor((n - 1) / 2)]! + samples[Math.ceil((n - 1) / 2)]!) / 2;
console.log(
  JSON.stringify({ events: n, median_ms: median, min_ms: samples[0], max_ms: samples.at(-1), samples_ms: samples }),
);
