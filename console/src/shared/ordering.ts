/**
 * Ordered delivery as the console and the portal show it: an endpoint's ordering keys with events waiting (how many,
 * the oldest, why each waits, its head event) and where one delivery stands in its key's line.
 */
import type { z } from "zod";
import type { orderingKeyPageSchema } from "../../../services/api/ordering-keys.ts";
import type { eventViewSchema } from "../../../services/api/views.ts";
import { badge, elapsed, h, plural, table, when } from "./dom.ts";

type DeliveryView = z.output<typeof eventViewSchema>["deliveries"][number];

export type OrderingKeyPage = z.output<typeof orderingKeyPageSchema>;
export type OrderingKey = OrderingKeyPage["data"][number];
export interface WaitingKeys {
  /** Oldest first (by `since`). */
  readonly keys: readonly OrderingKey[];
  /** More pages remained unread: `keys` is a lower bound. */
  readonly more: boolean;
}

/** Pages read per view at most (100 keys each), so a view costs a few reads however many keys wait. */
const maxPages = 5;
const why: Record<OrderingKey["reason"], string> = {
  in_flight: "its head is being sent",
  retrying: "its head waits for a retry",
  dead: "its head died and the endpoint blocks on dead: retry it, recover it or skip it",
  skipped: "its head was skipped (endpoint disabled) and the endpoint blocks on dead: recover it or skip it",
  gone: "its head's event no longer exists: the next goes at the next look",
};

export async function waitingKeys(read: (cursor?: string) => Promise<OrderingKeyPage>): Promise<WaitingKeys> {
  const keys: OrderingKey[] = [];
  let cursor: string | undefined;
  let more = true;
  for (let page = 0; page < maxPages && more; page++) {
    const { data, next_cursor: next } = await read(cursor);
    keys.push(...data);
    more = next !== null;
    cursor = next ?? undefined;
  }
  return { keys: keys.sort((a, b) => a.since.localeCompare(b.since)), more };
}

/**
 * "How many, the oldest, why" in a line, then one row per key, oldest first (the caller adds a heading); `skip`
 * offers "Skip head" where a dead or skipped head blocks its key.
 */
export function waitingKeysPanel(
  w: WaitingKeys,
  opts: { openEvent(eventId: string): void; skip?: ((key: OrderingKey) => void) | undefined },
): HTMLElement {
  const oldest = w.keys[0];
  const counts = new Map<string, number>();
  for (const k of w.keys) counts.set(k.reason, (counts.get(k.reason) ?? 0) + 1);
  const reasons = [...counts].map(([r, n]) => `${n} ${r.replace("_", " ")}`).join(", ");
  const rows = w.keys.map((k) =>
    h(
      "tr",
      { "data-ordering-key": k.ordering_key },
      h("td", {}, h("code", {}, k.ordering_key)),
      h("td", {}, k.waiting),
      h("td", { title: why[k.reason] }, badge(k.reason)),
      h("td", {}, h("button", { class: "link mono", onclick: () => opts.openEvent(k.head_event_id) }, k.head_event_id)),
      h("td", {}, when(k.since)),
      opts.skip
        ? h(
            "td",
            {},
            k.reason === "dead" || k.reason === "skipped"
              ? h("button", { class: "quiet", onclick: () => opts.skip!(k) }, "Skip head")
              : null,
          )
        : null,
    ),
  );
  return h(
    "div",
    { class: "ordering-keys", "data-testid": "ordering-keys" },
    oldest
      ? h(
          "p",
          { "data-testid": "ordering-keys-summary" },
          `${w.more ? "At least " : ""}${plural(w.keys.length, "key")} with events waiting (${reasons}); the oldest, `,
          h("code", {}, oldest.ordering_key),
          `, since ${when(oldest.since)}: ${why[oldest.reason]}.`,
        )
      : null,
    table(
      ["Key", "Waiting", "Why", "Head event", "Head since", ...(opts.skip ? [""] : [])],
      rows,
      "No ordering key has events waiting at this endpoint.",
    ),
  );
}

/** From acceptance to its first attempt's start: how long a delivery that waited for its turn waited (queueing too). */
function waitedMs(createdAt: string, d: DeliveryView): number | undefined {
  const first = d.attempt_log.find((a) => a.attempt === 1);
  return first ? Date.parse(first.at) - Date.parse(createdAt) : undefined;
}

/** Where the delivery stands in its key's line: waiting (its place, the head), or whom it waited for and how long. */
export function orderingNote(
  createdAt: string,
  d: DeliveryView,
  openEvent?: (eventId: string) => void,
): HTMLElement | null {
  const o = d.ordering;
  if (!o) return null;
  const event = (id: string) =>
    openEvent
      ? h("button", { class: "link mono", onclick: () => openEvent(id) }, id)
      : h("span", { class: "mono" }, id);
  if (o.position !== null && o.position > 0 && o.waiting_for !== null)
    return h(
      "p",
      { class: "ordering", "data-testid": "ordering" },
      `Waiting for its turn: position ${o.position} in its key's line (${plural(o.position, "event")} ahead), waiting for `,
      event(o.waiting_for),
    );
  if (o.waited_for === null) return null;
  const ms = waitedMs(createdAt, d);
  return h(
    "p",
    { class: "ordering", "data-testid": "ordering", title: "From acceptance to its first attempt" },
    "Waited for ",
    event(o.waited_for),
    ms === undefined ? "" : ` (${elapsed(Math.max(0, ms))})`,
  );
}
