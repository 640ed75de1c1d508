/**
 * The home page's small charts, from GET /admin/stats/history: deliveries and failures, first-attempt latency
 * p50/p95, queue and DLQ depth, over the last hour (per minute) or day (per 10 minutes).
 */
import type { StatsHistory } from "./api.ts";
import { chart, colors, type Values } from "./shared/chart.ts";

const sum = (v: Values) => v.reduce<number>((a, b) => a + (b ?? 0), 0);
const last = (v: Values) => [...v].reverse().find((x) => x !== null) ?? null;
const seconds = (s: number | null) => (s === null ? "—" : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`);

export function chartsPanel(h: StatsHistory, choose: (window: "hour" | "day") => void): HTMLElement {
  const x = h.points.map((p) => Date.parse(p.at) / 1000);
  const per = h.window === "hour" ? "per minute" : "per 10 minutes";
  const delivered = h.points.map((p) => p.delivered);
  const failed = h.points.map((p) => p.failed);
  const p50 = h.points.map((p) => p.first_attempt_p50_s);
  const p95 = h.points.map((p) => p.first_attempt_p95_s);
  const depth = (k: "visible" | "in_flight" | "delayed") => h.points.map((p) => p.queue?.[k] ?? null);
  const dlq = h.points.map((p) => p.dlq);
  const queueNow = h.points.map((p) => (p.queue ? p.queue.visible + p.queue.in_flight + p.queue.delayed : null));

  const pick = (window: "hour" | "day", label: string) => {
    const b = document.createElement("button");
    b.className = h.window === window ? "tab active" : "tab";
    b.textContent = label;
    b.dataset.window = window;
    b.addEventListener("click", () => choose(window));
    return b;
  };
  const head = document.createElement("div");
  head.className = "toolbar";
  const title = document.createElement("h2");
  title.textContent = "Deliveries";
  head.append(title, pick("hour", "Last hour"), pick("day", "Last day"));

  const grid = document.createElement("div");
  grid.className = "charts";
  grid.append(
    chart(
      "chart-deliveries",
      `Attempts ${per}`,
      `${sum(delivered)} delivered · ${sum(failed)} failed`,
      [
        { label: "delivered", color: colors.ok, values: delivered, bars: true },
        { label: "failed", color: colors.bad, values: failed },
      ],
      x,
      h.step_seconds,
    ),
    chart(
      "chart-latency",
      "Acceptance → first attempt",
      `p95 now ${seconds(last(p95))}`,
      [
        { label: "p50", color: colors.blue, values: p50 },
        { label: "p95", color: colors.amber, values: p95 },
      ],
      x,
      h.step_seconds,
    ),
    chart(
      "chart-queue",
      "Queue depth",
      `now ${last(queueNow) ?? "—"}`,
      [
        { label: "waiting", color: colors.blue, values: depth("visible") },
        { label: "in flight", color: colors.ok, values: depth("in_flight") },
        { label: "delayed", color: colors.amber, values: depth("delayed") },
      ],
      x,
      h.step_seconds,
    ),
    chart(
      "chart-dlq",
      "Dead-letter queue",
      `now ${last(dlq) ?? "—"}`,
      [{ label: "messages", color: colors.bad, values: dlq }],
      x,
      h.step_seconds,
    ),
  );
  const section = document.createElement("section");
  section.dataset.testid = "charts";
  section.append(head, grid);
  return section;
}
