/**
 * The DOM helpers the console and the portal share: `h` builds elements, and every value from the API (payloads,
 * receivers' response excerpts) goes in as text, never as HTML.
 */
export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | boolean | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children)
    if (c !== null && c !== undefined && c !== false) el.append(typeof c === "number" ? String(c) : c);
  return el;
}

export const badge = (status: string) => h("span", { class: `badge ${status.toLowerCase()}` }, status);
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");
/** A duration as a person reads it: ms, s, min or h. */
export const elapsed = (ms: number) =>
  ms < 1000
    ? `${ms} ms`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : ms < 7_200_000
        ? `${Math.round(ms / 60_000)} min`
        : `${(ms / 3_600_000).toFixed(1)} h`;
export const table = (head: string[], rows: HTMLTableRowElement[], empty: string) =>
  rows.length
    ? h("table", {}, h("thead", {}, h("tr", {}, ...head.map((c) => h("th", {}, c)))), h("tbody", {}, ...rows))
    : h("p", { class: "empty" }, empty);
