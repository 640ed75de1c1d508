/** Sending a `webhook.test` event to one endpoint and showing its attempt in place, as soon as the worker made it. */
import { answered } from "../shared/answered.ts";
import { attemptTable } from "../shared/delivery.ts";
import { badge, h } from "../shared/dom.ts";
import * as api from "./api.ts";
import type { Shell } from "./shell.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The button, and where its result appears. */
export function testEvent(shell: Shell, endpointId: string): { button: HTMLButtonElement; result: HTMLElement } {
  const result = h("div", { class: "result", "data-testid": "test-result" });
  const send = () =>
    shell.guard(async () => {
      button.disabled = true;
      try {
        const { event_id: eventId } = await api.sendTest(endpointId);
        result.replaceChildren(
          h("p", {}, "Test event ", h("span", { class: "mono" }, eventId), " sent: waiting for its attempt…"),
        );
        // The worker attempts it within a second or two; look every half second for up to half a minute.
        for (let i = 0; i < 60; i++) {
          const d = (await api.event(eventId)).deliveries[0];
          if (answered(d)) {
            const last = d.attempt_log.at(-1);
            result.dataset.status = d.status;
            result.replaceChildren(
              h(
                "p",
                {},
                badge(d.status),
                " ",
                last
                  ? `HTTP ${last.status_code ?? "no answer"} in ${last.duration_ms} ms${last.error ? ` · ${last.error}` : ""}`
                  : "The endpoint is disabled: the event was recorded, not sent.",
              ),
              attemptTable(d.attempt_log),
            );
            return;
          }
          await pause(500);
        }
        result.replaceChildren(h("p", {}, "No attempt yet: see the event under Events."));
      } finally {
        button.disabled = false;
      }
    });
  const button = h("button", { class: "quiet", onclick: () => void send() }, "Send test event");
  return { button, result };
}
