/** When a page that waits for a delivery's attempt may show it (kept free of the DOM, so unit tests can import it). */
import type { z } from "zod";
import type { eventViewSchema } from "../../../services/api/views.ts";

type Delivery = z.output<typeof eventViewSchema>["deliveries"][number];

/**
 * Whether a new delivery's first answer is in. The attempt counts from its lease, and the worker stores the attempt's
 * record just before its outcome, so a read in between shows the attempt (even a 200) beside a status still PENDING.
 * Only a status that moved on is the answer: FAILED, DELIVERED or DEAD with the attempt, or SKIPPED without one.
 */
export const answered = (d: Delivery | undefined): d is Delivery =>
  d !== undefined && d.status !== "PENDING" && (d.attempt_log.length > 0 || d.status === "SKIPPED");
