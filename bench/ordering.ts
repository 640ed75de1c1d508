/**
 * Ordered delivery per key (issue 24), each figure beside its baseline from the same run: (a) many keys' events
 * interleaved (key i's n-th event accepted in round robin) drained by one worker to one instant receiver, with the
 * `Ordering-Key` header and the same load without it, best of two rounds each in alternating order; (b) one key's events: how fast one ordered stream goes, beside
 * the POST round trip that bounds it. The receiver checks every key's order.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface OrderingHarness {
  readonly quick: boolean;
  readonly apiUrl: string;
  readonly adminToken: string;
  /** The emulators' process: its CPU time per delivery is read beside the worker's. */
  readonly emulators: ChildProcess;
  /** A worker process with the bench's environment plus `env`, once it answers its health check. */
  startWorker(env: Record<string, string>): Promise<ChildProcess>;
  stop(child: ChildProcess): Promise<void>;
  row(what: string, value: string, ceiling?: string, ratio?: string): void;
}

interface Arrival {
  readonly key: string;
  readonly n: number;
  readonly at: number;
}

/** Receivers on one port: `/<name>` answers 200 at once and keeps each arrival's key, position and time. */
async function startReceivers() {
  const arrivals = new Map<string, Arrival[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      const { data } = JSON.parse(Buffer.concat(chunks).toString()) as { data: { key: string; n: number } };
      const name = (req.url ?? "/").slice(1);
      const list = arrivals.get(name) ?? [];
      arrivals.set(name, list);
      list.push({ key: data.key, n: data.n, at });
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: (name: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/${name}`,
    arrivals: (name: string) => arrivals.get(name) ?? [],
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * Per key, an arrival of an event not yet seen that is not the key's next one is out of order (a gap or an
 * overtaking); an event seen before is a repeat (at-least-once delivery, not an order violation).
 */
export function orderCheck(arrivals: readonly Arrival[]): { outOfOrder: number; repeats: number } {
  const seen = new Map<string, Set<number>>();
  let outOfOrder = 0;
  let repeats = 0;
  for (const { key, n } of arrivals) {
    const got = seen.get(key) ?? new Set<number>();
    seen.set(key, got);
    if (got.has(n)) repeats++;
    else if (n !== got.size) outOfOrder++;
    got.add(n);
  }
  return { outOfOrder, repeats };
}

/** A process's CPU time so far (user + system), in ms, from /proc (the bench runs on Linux). */
function cpuMs(child: ChildProcess): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of the line, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

export async function orderingScenarios(h: OrderingHarness): Promise<Record<string, unknown>> {
  const receivers = await startReceivers();
  const admin = { authorization: `Bearer ${h.adminToken}`, "content-type": "application/json" };
  const pad = "x".repeat(960);
  const tenant = async (name: string): Promise<string> => {
    const res = await fetch(`${h.apiUrl}/admin/tenants`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name, endpoints: [{ url: receivers.url(name) }] }),
    });
    return ((await res.json()) as { api_key: string }).api_key;
  };
  /**
   * `perKey` rounds of one event for each of `keys` keys, 32 POSTs at a time within a round: a key's event is
   * accepted before its next one is sent. Answers the event ids in acceptance order.
   */
  const send = async (apiKey: string, keys: number, perKey: number, keyed: boolean): Promise<string[]> => {
    const ids: string[] = [];
    for (let n = 0; n < perKey; n++) {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(32, keys) }, async () => {
          for (let i = next++; i < keys; i = next++) {
            const key = `k${i}`;
            const res = await fetch(`${h.apiUrl}/v1/events`, {
              method: "POST",
              headers: {
                authorization: `Bearer ${apiKey}`,
                "content-type": "application/json",
                ...(keyed ? { "ordering-key": key } : {}),
              },
              body: JSON.stringify({ type: "bench.ordering", data: { key, n, pad } }),
            });
            if (res.status !== 201) throw new Error(`ingest answered ${res.status}`);
            ids.push(((await res.json()) as { event_id: string }).event_id);
          }
        }),
      );
    }
    return ids;
  };
  /** Events already accepted, drained by one worker: the rate from the first arrival to the last. */
  const drain = async (name: string, count: number) => {
    const emulatorsBefore = cpuMs(h.emulators);
    const worker = await h.startWorker({});
    const workerBefore = cpuMs(worker);
    const deadline = Date.now() + 600_000;
    while (receivers.arrivals(name).length < count && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const workerCpu = cpuMs(worker) - workerBefore;
    const emulatorsCpu = cpuMs(h.emulators) - emulatorsBefore;
    await h.stop(worker);
    const arrived = receivers.arrivals(name);
    const delivered = new Set(arrived.map((a) => `${a.key}#${a.n}`)).size;
    const perS = (arrived.length - 1) / Math.max(0.001, (arrived.at(-1)!.at - arrived[0]!.at) / 1000);
    return {
      events: count,
      delivered,
      per_s: perS,
      ...orderCheck(arrived),
      worker_cpu_ms_per_delivery: workerCpu / arrived.length,
      emulators_cpu_ms_per_delivery: emulatorsCpu / arrived.length,
    };
  };
  const fmt = (n: number, d = 0) => n.toFixed(d);
  const started = performance.now();
  const loud = (what: string, n: number) => {
    if (n > 0) process.stderr.write(`\n  !!! ORDER VIOLATED: ${n} ${what} arrived out of their key's order !!!\n\n`);
  };
  try {
    // (a) keys × events interleaved, with keys and without, in rounds of alternating order (the machine's speed
    // drifts between drains): the best round of each is kept.
    const keys = h.quick ? 100 : 1000;
    const perKey = h.quick ? 5 : 10;
    const count = keys * perKey;
    const rounds: Record<"plain" | "keyed", Awaited<ReturnType<typeof drain>>[]> = { plain: [], keyed: [] };
    for (let round = 0; round < (h.quick ? 1 : 2); round++) {
      for (const keyedRun of round % 2 ? [true, false] : [false, true]) {
        const name = `o-${keyedRun ? "keyed" : "plain"}-${round}`;
        await send(await tenant(name), keys, perKey, keyedRun);
        rounds[keyedRun ? "keyed" : "plain"].push(await drain(name, count));
      }
    }
    const best = (runs: typeof rounds.plain) => runs.reduce((a, b) => (b.per_s > a.per_s ? b : a));
    const plain = best(rounds.plain);
    const keyed = best(rounds.keyed);
    const outOfOrder = rounds.keyed.reduce((sum, r) => sum + r.outOfOrder, 0);
    loud("deliveries with keys", outOfOrder);
    const incomplete = (...runs: (typeof keyed)[]) => {
      const short = runs.find((r) => r.delivered < r.events);
      return short ? `, ONLY ${short.delivered} of ${short.events} delivered` : "";
    };
    h.row(
      `ordered: ${keys} keys × ${perKey} interleaved, deliveries/s`,
      fmt(keyed.per_s) + incomplete(...rounds.keyed),
      `no keys ${fmt(plain.per_s)}${incomplete(...rounds.plain)}`,
      `${fmt(keyed.per_s / plain.per_s, 2)}x (target ≥ 0.8x)`,
    );
    h.row(
      "  out of key order: with keys / without (repeats)",
      `${outOfOrder > 0 ? `VIOLATED ${outOfOrder}` : "0"} / ${plain.outOfOrder}`,
      "",
      `${keyed.repeats} / ${plain.repeats}`,
    );
    h.row(
      "  CPU ms per delivery, worker / emulators",
      `${fmt(keyed.worker_cpu_ms_per_delivery, 2)} / ${fmt(keyed.emulators_cpu_ms_per_delivery, 2)}`,
      `no keys ${fmt(plain.worker_cpu_ms_per_delivery, 2)} / ${fmt(plain.emulators_cpu_ms_per_delivery, 2)}`,
    );

    // (b) One key: each event's first attempt waits for the previous one to settle and wake it.
    const oneCount = h.quick ? 50 : 200;
    const apiKey = await tenant("o-one");
    const ids = await send(apiKey, 1, oneCount, true);
    const one = await drain("o-one", oneCount);
    loud("deliveries of one key", one.outOfOrder);
    // The worker's own time for the POST, from the attempt log of a sample of the events.
    const durations = await Promise.all(
      ids.slice(-20).map(async (id) => {
        const res = await fetch(`${h.apiUrl}/v1/events/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
        const event = (await res.json()) as { deliveries: { attempt_log: { duration_ms: number }[] }[] };
        return event.deliveries[0]?.attempt_log[0]?.duration_ms ?? NaN;
      }),
    );
    const postMs = median(durations);
    const cycleMs = 1000 / one.per_s;
    h.row(
      `ordered: one key × ${oneCount}, deliveries/s (ms each)`,
      `${fmt(one.per_s)} (${fmt(cycleMs, 1)})${incomplete(one)}`,
      `1 / POST round trip ${fmt(1000 / Math.max(postMs, 0.1))}`,
      one.outOfOrder > 0 ? `VIOLATED ${one.outOfOrder}` : `${fmt((postMs / cycleMs) * 100)}% in the POST`,
    );
    h.row(
      "  one key's ceiling: one POST round trip + settle-and-wake",
      `${fmt(postMs, 1)} + ${fmt(cycleMs - postMs, 1)} ms`,
    );
    return {
      interleaved: {
        keys,
        per_key: perKey,
        with_keys: rounds.keyed,
        without_keys: rounds.plain,
        ratio: keyed.per_s / plain.per_s,
      },
      one_key: { ...one, post_round_trip_ms: postMs, cycle_ms: cycleMs },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    receivers.close();
  }
}
