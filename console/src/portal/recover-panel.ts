/**
 * Recovering what an endpoint missed: the deliveries that died, or were skipped while it was disabled, in a time
 * range. A dry run counts them first; then they are sent again. Each call looks at up to 100 events and the page goes
 * on with the cursor it answers (a few calls at most per press, within the tenant's rate limit).
 */
import { h } from "../shared/dom.ts";
import * as api from "./api.ts";
import type { Shell } from "./shell.ts";

const callsPerPress = 10;
const deliveries = (n: number) => `${n} ${n === 1 ? "delivery" : "deliveries"}`;
/** `datetime-local` wants local time without a zone. */
const local = (iso: string) => {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

export function recoverPanel(shell: Shell, endpointId: string, since: string): HTMLElement {
  const from = h("input", { type: "datetime-local", name: "since", value: local(since) });
  const until = h("input", { type: "datetime-local", name: "until" });
  const result = h("p", { "data-testid": "recover-result" });
  const range = () => ({
    since: new Date(from.value).toISOString(),
    ...(until.value ? { until: new Date(until.value).toISOString() } : {}),
  });
  const walk = async (dryRun: boolean) => {
    let count = 0;
    let cursor: string | undefined;
    for (let call = 0; call < callsPerPress; call++) {
      const r = await api.recover(endpointId, { ...range(), dry_run: dryRun, ...(cursor ? { cursor } : {}) });
      count += (dryRun ? r.would_requeue : r.requeued) ?? 0;
      if (r.next_cursor === null) return { count, more: false };
      cursor = r.next_cursor;
    }
    return { count, more: true };
  };
  const send = h("button", { disabled: true, "data-testid": "recover-send" }, "Send them again");
  const check = h("button", { class: "quiet", "data-testid": "recover-check" }, "Count what it missed");
  check.addEventListener(
    "click",
    () =>
      void shell.guard(async () => {
        const { count, more } = await walk(true);
        result.textContent = `${deliveries(count)}${more ? " (at least)" : ""} died or were skipped in that time.`;
        send.disabled = count === 0;
      }),
  );
  send.addEventListener(
    "click",
    () =>
      void shell.guard(async () => {
        send.disabled = true;
        const { count, more } = await walk(false);
        result.textContent = `Sent again: ${deliveries(count)}.${more ? " More remain: count again." : ""}`;
      }),
  );
  return h(
    "section",
    { class: "panel", "data-testid": "recover" },
    h("h3", {}, "Recover what it missed"),
    h(
      "p",
      { class: "hint" },
      "Deliveries to this endpoint that died, or were skipped while it was disabled, in this time range are sent again, each with its original webhook-id.",
    ),
    h("label", {}, "From ", from),
    h("label", {}, " until ", until, " (empty: now) "),
    check,
    send,
    result,
  );
}
