/**
 * One small time chart, for the console's and the portal's panels: drawn with uPlot (canvas, no framework,
 * bundled, nothing from a CDN, no inline script), so it runs under the API's CSP.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export type Values = (number | null)[];
export interface Line {
  readonly label: string;
  readonly color: string;
  readonly values: Values;
  /** Bars (counts) rather than a line (levels). */
  readonly bars?: boolean;
}

export const colors = { ok: "#2b8a3e", bad: "#c92a2a", blue: "#3b5bdb", amber: "#e67700" };

/** `x` in epoch seconds, one point per `stepS`. @default size 280 x 140 */
export function chart(
  testId: string,
  title: string,
  summary: string,
  lines: Line[],
  x: number[],
  stepS: number,
  size = { width: 280, height: 140 },
): HTMLElement {
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
    // Lines show their points: a step with data between gaps is a dot, not nothing.
    ...lines.map((l) =>
      l.bars
        ? {
            label: l.label,
            stroke: l.color,
            fill: `${l.color}99`,
            width: 0,
            paths: uPlot.paths.bars?.({ size: [0.8, 12] }),
          }
        : { label: l.label, stroke: l.color, width: 1.5, points: { show: true, size: 4, fill: l.color } },
    ),
  ];
  new uPlot(
    {
      ...size,
      series,
      // From a little below zero, so a series at zero (an empty queue) is drawn above the frame, not on it.
      // Half a step of room at each end: the newest step is drawn whole, not cut by the frame.
      scales: {
        x: { time: true, range: (_u, min, max) => [min - stepS / 2, max + stepS / 2] },
        y: { range: (_u, _min, max) => [-0.04 * (max > 0 ? max * 1.15 : 1), max > 0 ? max * 1.15 : 1] },
      },
      axes: [{ size: 28 }, { size: 40 }],
      legend: { show: true, live: false },
      cursor: { show: false },
    },
    [x, ...lines.map((l) => l.values)],
    el,
  );
  return el;
}
