/**
 * The home page's small charts, from GET /admin/stats/history: deliveries and failures, first-attempt latency
 * p50/p95, queue and DLQ depth, over the last hour (per minute) or day (per 10 minutes). Drawn with uPlot: canvas,
 * no framework, bundled (nothing from a CDN) and no inline script, so it runs under the API's CSP.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { StatsHistory } from "./api.ts";

type Values = (number | null)[];
interface Line {
  readonly label: string;
  readonly color: string;
  readonly values: Values;
  /** Bars (counts) rather than a line (levels). */
  readonly bars?: boolean;
}

const colors = { ok: "#2b8a3e", bad: "#c92a2a", blue: "#3b5bdb", amber: "#e67700" };
const size = { width: 280, height: 140 };
const sum = (v: Values) => v.reduce<number>((a, b) => a + (b ?? 0), 0);
const last = (v: Values) => [...v].reverse().find((x) => x !== null) ?? null;
const seconds = (s: number | null) => (s === null ? "—" : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`);

function chart(testId: string, title: string, summary: string, lines: Line[], x: number[], stepS: number): HTMLElement {
  const el = document.createElement("figure");
  el.className = "chart";
  el.dataset.testid = testId;
  // How many values the chart has to draw (gaps excluded): what a test can check without reading pixels.
  el.dataset.points = String(lines.reduce((n, l) => n + l.values.filter((v) => v !== null).length, 0));
  const caption = document.createElement("figcaption");
  const strong = document.createElement("strong");
  strong.textContent = title;
  const small = document.createElement("small");
  small.textContent = summary;
  caption.append(strong, " ", small);
  el.append(caption);
  const series: uPlot.Series[] = [
    {},
    // Lines show their points: a minute with data between gaps is a dot, not nothing.
    ...lines.map((l) =>
      l.bars
        ? { label: l.label, stroke: l.color, fill: `${l.color}99`, width: 0, paths: uPlot.paths.bars?.({ size: [0.8, 12] }) }
        : { label: l.label, stroke: l.color, width: 1.5, points: { show: true, size: 4, fill: l.color } },
    ),
  ];
  new uPlot(
    {
      ...size,
      series,
      // From a little below zero, so a series at zero (an empty queue) is drawn above the frame, not on it.
      // Half a step of room at each end: the newest minute is drawn whole, not cut by the frame.
      scales: { x: { time: true, range: (_u, min, max) => [min - stepS / 2, max + stepS / 2] }, y: { range: (_u, _min, max) => [-0.04 * (max > 0 ? max * 1.15 : 1), max > 0 ? max * 1.15 : 1] } },
      axes: [{ size: 28 }, { size: 40 }],
      legend: { show: true, live: false },
      cursor: { show: false },
    },
    [x, ...lines.map((l) => l.values)],
    el,
  );
  return el;
}

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
    chart("chart-deliveries", `Attempts ${per}`, `${sum(delivered)} delivered · ${sum(failed)} failed`, [
      { label: "delivered", color: colors.ok, values: delivered, bars: true },
      { label: "failed", color: colors.bad, values: failed },
    ], x, h.step_seconds),
    chart("chart-latency", "Acceptance → first attempt", `p95 now ${seconds(last(p95))}`, [
      { label: "p50", color: colors.blue, values: p50 },
      { label: "p95", color: colors.amber, values: p95 },
    ], x, h.step_seconds),
    chart("chart-queue", "Queue depth", `now ${last(queueNow) ?? "—"}`, [
      { label: "waiting", color: colors.blue, values: depth("visible") },
      { label: "in flight", color: colors.ok, values: depth("in_flight") },
      { label: "delayed", color: colors.amber, values: depth("delayed") },
    ], x, h.step_seconds),
    chart("chart-dlq", "Dead-letter queue", `now ${last(dlq) ?? "—"}`, [{ label: "messages", color: colors.bad, values: dlq }], x, h.step_seconds),
  );
  const section = document.createElement("section");
  section.dataset.testid = "charts";
  section.append(head, grid);
  return section;
}
