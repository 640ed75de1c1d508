/**
 * The soak's verdict, from what was accepted, what the receivers saw and what the store says at the end (pure: the
 * run gathers the inputs). The rules are docs/ARCHITECTURE.md's invariants 1, 2 and 13, and RELIABILITY.md's soak
 * section says how each count is read.
 */
import type { Arrival, Kind } from "./receivers.ts";

export interface Accepted {
  readonly id: string;
  readonly kind: Kind;
  readonly eventId: string;
  /** When the request that was answered 201 was sent. */
  readonly sentAt: number;
  /** `<tenant>/<key>` and the event's place in that key's sends, for ordered events. */
  readonly lane?: { readonly key: string; readonly seq: number } | undefined;
}

/** A settled delivery's status as the store has it at the end, by event id; absent: the event is not there. */
export type Final = ReadonlyMap<string, string>;

export interface Disruption {
  /** What happened: a worker killed or stopped, DynamoDB's emulator killed. */
  readonly what: string;
  readonly at: number;
}

export interface VerdictInput {
  readonly accepted: readonly Accepted[];
  readonly arrivals: readonly Arrival[];
  readonly final: Final;
  /** Disruptions after which a POST in flight, or answered but not yet recorded, may be repeated. */
  readonly disruptions: readonly Disruption[];
  /**
   * Why a worker said the outcome of a POST of this delivery (by soak id) was not its to record: its write failed
   * after the attempt, or the delivery was already settled (its lease ran out before it recorded: another worker's
   * POST got there first).
   */
  readonly logged: ReadonlyMap<string, string>;
  /** How long before its answer a POST may have started, and how long after it the outcome may still be unrecorded. */
  readonly windowMs: number;
}

/** Receivers that answer 2xx to every delivery in the end: their deliveries must all be DELIVERED. */
const alwaysSucceeds: ReadonlySet<Kind> = new Set(["fast", "slow", "r429"]);

export interface Verdict {
  readonly lost: string[];
  readonly wrongState: string[];
  /** DEAD or SKIPPED though the receiver answered 2xx, its outcome lost to a disruption: at-least-once's edge. */
  readonly receivedNotRecorded: number;
  /** Repeated 2xx, by what explains them. */
  readonly repeats: { explained: Record<string, number>; unexplained: string[] };
  readonly outOfOrder: string[];
  readonly states: Record<string, number>;
  /** First attempt minus send time, ms: all, and fast receivers' unordered events. */
  readonly firstAttempt: { all: number[]; fast: number[] };
}

export function judge(v: VerdictInput): Verdict {
  const byId = new Map<string, Arrival[]>();
  for (const a of v.arrivals) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
  const lost: string[] = [];
  const wrongState: string[] = [];
  const unexplained: string[] = [];
  const explained: Record<string, number> = {};
  let receivedNotRecorded = 0;
  const states: Record<string, number> = {};
  const all: number[] = [];
  const fast: number[] = [];
  const lanes = new Map<string, { seq: number; first: number }[]>();
  for (const e of v.accepted) {
    const seen = byId.get(e.id) ?? [];
    const ok = seen.filter((a) => a.status >= 200 && a.status < 300);
    const status = v.final.get(e.eventId) ?? "MISSING";
    states[`${e.kind} ${status}`] = (states[`${e.kind} ${status}`] ?? 0) + 1;
    // A 2xx whose outcome a disruption (or a failed write the worker logged) may have kept from the store.
    const first = ok[0]?.at;
    const near = v.disruptions.find(
      (d) => first !== undefined && d.at >= first - v.windowMs && d.at <= first + v.windowMs,
    );
    const excused = v.logged.get(e.id) ?? near?.what.replace(/ .*/, "");
    if (status !== "DELIVERED" && status !== "DEAD" && status !== "SKIPPED") lost.push(`${e.id} (${e.kind}) ${status}`);
    else if (status === "DELIVERED" ? ok.length === 0 : alwaysSucceeds.has(e.kind) || (ok.length > 0 && !excused))
      wrongState.push(`${e.id} (${e.kind}) ${status} after ${seen.map((a) => a.status).join(", ") || "no request"}`);
    else if (status !== "DELIVERED" && ok.length > 0) receivedNotRecorded++;
    if (ok.length > 1) {
      if (excused) explained[excused] = (explained[excused] ?? 0) + ok.length - 1;
      else
        unexplained.push(`${e.id} (${e.kind}) ${seen.map((a) => `${a.status} at +${a.at - e.sentAt} ms`).join(", ")}`);
    }
    if (seen[0]) {
      all.push(seen[0].at - e.sentAt);
      if (e.kind === "fast" && !e.lane) fast.push(seen[0].at - e.sentAt);
      if (e.lane) lanes.set(e.lane.key, [...(lanes.get(e.lane.key) ?? []), { seq: e.lane.seq, first: seen[0].at }]);
    }
  }
  const outOfOrder: string[] = [];
  for (const [key, events] of lanes) {
    const byArrival = [...events].sort((a, b) => a.first - b.first);
    byArrival.forEach((e, i) => {
      if (i > 0 && e.seq < byArrival[i - 1]!.seq) outOfOrder.push(`${key}: #${e.seq} after #${byArrival[i - 1]!.seq}`);
    });
  }
  return {
    lost,
    wrongState,
    receivedNotRecorded,
    repeats: { explained, unexplained },
    outOfOrder,
    states,
    firstAttempt: { all, fast },
  };
}

/** The p-th percentile (0-100) of `values`, by nearest rank; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Least-squares slope of `samples` (time ms, bytes) in MB per 10 minutes; undefined with fewer than 3 samples. */
export function slopeMbPer10Min(samples: readonly { at: number; bytes: number }[]): number | undefined {
  if (samples.length < 3) return undefined;
  const n = samples.length;
  const mt = samples.reduce((s, x) => s + x.at, 0) / n;
  const mb = samples.reduce((s, x) => s + x.bytes, 0) / n;
  const cov = samples.reduce((s, x) => s + (x.at - mt) * (x.bytes - mb), 0);
  const varT = samples.reduce((s, x) => s + (x.at - mt) ** 2, 0);
  return varT === 0 ? undefined : ((cov / varT) * 600_000) / 1e6;
}
