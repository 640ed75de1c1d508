/**
 * The delivery engine's scenarios, each beside its ceiling or baseline from the same run:
 * (a) deliveries in flight and per second against receivers that answer after 2 s (ceiling: capacity ÷ 2 s);
 * (b) a fast tenant's deliveries alone, then behind a tenant whose endpoint answers after 15 s (ratio);
 * (c) one worker's peak RSS with 1,000 deliveries in flight.
 */
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { orderPayload } from "./support/payload.ts";

export interface EngineHarness {
  readonly quick: boolean;
  readonly apiUrl: string;
  readonly adminToken: string;
  /** A worker process with the bench's environment plus `env`, once it answers its health check. */
  startWorker(env: Record<string, string>): Promise<ChildProcess>;
  stop(child: ChildProcess): Promise<void>;
  peakRssMb(child: ChildProcess): number;
  row(what: string, value: string, ceiling?: string, ratio?: string): void;
}

/** Receivers on one port: `/<name>?delay=<ms>` answers 200 after the delay; counts what is open at once. */
async function startReceivers() {
  let open = 0;
  let peakOpen = 0;
  const arrivals = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    open++;
    peakOpen = Math.max(peakOpen, open);
    req.resume();
    req.on("end", () => {
      setTimeout(
        () => {
          open--;
          const name = url.pathname.slice(1);
          arrivals.set(name, [...(arrivals.get(name) ?? []), Date.now()]);
          res.writeHead(200).end();
        },
        Number(url.searchParams.get("delay") ?? 0),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: (name: string, delayMs: number) =>
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/${name}?delay=${delayMs}`,
    arrivals: (name: string) => arrivals.get(name) ?? [],
    peakOpen: () => peakOpen,
    resetPeak: () => (peakOpen = open),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Deliveries per second in the middle half of a run (between the 25th and 75th percentile arrival): the
 * steady rate, without the ramp-up to full capacity and the last deliveries' own latency. */
function steadyRate(arrivals: readonly number[]): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.floor((sorted.length - 1) * p)]!;
  return sorted.length / 2 / Math.max(0.001, (q(0.75) - q(0.25)) / 1000);
}

const until = async (check: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error("bench scenario timed out");
};

export async function engineScenarios(h: EngineHarness): Promise<Record<string, unknown>> {
  const receivers = await startReceivers();
  const admin = { authorization: `Bearer ${h.adminToken}`, "content-type": "application/json" };
  let run = 0;
  /** A tenant whose one endpoint is the receiver `name` answering after `delayMs`; answers its API key. */
  const tenant = async (name: string, delayMs: number): Promise<string> => {
    const res = await fetch(`${h.apiUrl}/admin/tenants`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name, endpoints: [{ url: receivers.url(name, delayMs) }] }),
    });
    return ((await res.json()) as { api_key: string }).api_key;
  };
  /** `count` events for the tenant with `key`, 32 at a time. */
  const send = async (key: string, count: number) => {
    let next = 0;
    const body = orderPayload("bench.engine", 1024);
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next++ < count) {
          const res = await fetch(`${h.apiUrl}/v1/events`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body,
          });
          if (res.status !== 201) throw new Error(`ingest answered ${res.status}`);
        }
      }),
    );
  };
  const fmt = (n: number, d = 0) => n.toFixed(d);
  const results: Record<string, unknown> = {};
  try {
    // (a) Receivers answering after 2 s: ten tenants, so the per-tenant and per-endpoint caps leave the whole
    // capacity usable; the queue is filled first, then one worker drains it.
    const capacity = 500;
    const slowCount = h.quick ? 500 : 3000;
    const names = Array.from({ length: 10 }, (_, i) => `a${run}-${i}`);
    const keys = await Promise.all(names.map((n) => tenant(n, 2000)));
    await Promise.all(keys.map((k) => send(k, slowCount / names.length)));
    receivers.resetPeak();
    const started = Date.now();
    const worker = await h.startWorker({ WORKER_CONCURRENCY: String(capacity) });
    const all = () => names.flatMap((name) => receivers.arrivals(name));
    await until(() => all().length >= slowCount, 300_000);
    const seconds = (Date.now() - started) / 1000;
    await h.stop(worker);
    const ceiling = capacity / 2;
    const steady = steadyRate(all());
    results.slow_receivers = {
      deliveries: slowCount,
      seconds,
      per_s: slowCount / seconds,
      steady_per_s: steady,
      peak_in_flight: receivers.peakOpen(),
      ceiling_per_s: ceiling,
    };
    h.row(
      `receivers at 2 s: in flight / steady deliveries/s`,
      `${receivers.peakOpen()} / ${fmt(steady)}`,
      `${capacity} / ${ceiling}`,
      `${fmt(steady / ceiling, 2)}x`,
    );
    run++;

    // (b) Noisy neighbour: a fast tenant's 300 events, from the first POST to the last arrival, with a running
    // worker idle, then while another tenant's 40 deliveries wait on an endpoint that answers after 15 s.
    const fastCount = 300;
    const timeFast = async (withSlow: boolean) => {
      const fast = await tenant(`b${run}-fast`, 0);
      const w = await h.startWorker({});
      if (withSlow) {
        await send(await tenant(`b${run}-slow`, 15_000), 40);
        await until(() => receivers.peakOpen() >= 40, 30_000);
      }
      const t0 = Date.now();
      await send(fast, fastCount);
      await until(() => receivers.arrivals(`b${run}-fast`).length >= fastCount, 120_000);
      const s = (Date.now() - t0) / 1000;
      await h.stop(w);
      run++;
      return s;
    };
    const alone = await timeFast(false);
    receivers.resetPeak();
    const beside = await timeFast(true);
    results.noisy_neighbour = {
      fast_deliveries: fastCount,
      alone_s: alone,
      beside_slow_s: beside,
      ratio: alone / beside,
    };
    h.row(
      `fast tenant's ${fastCount}: alone / beside a 15 s endpoint (s)`,
      `${fmt(alone, 1)} / ${fmt(beside, 1)}`,
      "",
      `${fmt(alone / beside, 2)}x`,
    );

    // (c) Memory: one worker holding 1,000 deliveries open (20 tenants, receivers answering after 20 s).
    const held = h.quick ? 200 : 1000;
    const memNames = Array.from({ length: 20 }, (_, i) => `c${run}-${i}`);
    const memKeys = await Promise.all(memNames.map((n) => tenant(n, 20_000)));
    await Promise.all(memKeys.map((k) => send(k, held / memNames.length)));
    receivers.resetPeak();
    const w = await h.startWorker({ WORKER_CONCURRENCY: String(held), DELIVERY_TIMEOUT_MS: "30000" });
    await until(() => receivers.peakOpen() >= held, 120_000);
    const rss = h.peakRssMb(w);
    await h.stop(w);
    results.memory = { in_flight: receivers.peakOpen(), worker_peak_rss_mb: rss };
    h.row(`worker peak RSS MB, ${held} in flight`, fmt(rss), "", "");
  } finally {
    receivers.close();
  }
  return results;
}
