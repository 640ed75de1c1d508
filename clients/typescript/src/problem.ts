/** The API's RFC 9457 problem details as a typed exception, with a classifier for call sites. */
import type { Problem } from "./generated/types.gen.ts";

export class ProblemError extends Error {
  override readonly name = "ProblemError";
  /** The HTTP status. */
  readonly status: number;
  /** The problem's stable type URI: what to branch on, rather than the message. */
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  /** The invalid fields of a 422. */
  readonly errors: NonNullable<Problem["errors"]>;
  /** Seconds the API asked to wait before trying again (429, 503), when it said. */
  readonly retryAfterS: number | undefined;

  constructor(problem: Problem, retryAfterS?: number) {
    const fields = (problem.errors ?? []).map((e) => `${e.path}: ${e.message}`);
    super(`${problem.status} ${problem.title}: ${problem.detail}${fields.length ? ` (${fields.join("; ")})` : ""}`);
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
    this.retryAfterS = retryAfterS;
  }
}

function isProblemBody(body: unknown): body is Problem {
  if (typeof body !== "object" || body === null) return false;
  const p = body as Record<string, unknown>;
  return (
    typeof p.type === "string" &&
    typeof p.title === "string" &&
    typeof p.status === "number" &&
    typeof p.detail === "string"
  );
}

/** What a non-2xx answer becomes: its problem, or (from something in front of the API) one made of its status. */
export function problemError(body: unknown, response: Response): ProblemError {
  const retryAfter = Number(response.headers.get("retry-after") ?? Number.NaN);
  const retryAfterS = Number.isFinite(retryAfter) ? retryAfter : undefined;
  if (isProblemBody(body)) return new ProblemError(body, retryAfterS);
  const detail = typeof body === "string" ? body.slice(0, 200) : "";
  return new ProblemError(
    { type: "about:blank", title: response.statusText, status: response.status, detail },
    retryAfterS,
  );
}

/** Whether `err` is a problem answered by the API, optionally with this status. */
export function isProblem(err: unknown, status?: number): err is ProblemError {
  return err instanceof ProblemError && (status === undefined || err.status === status);
}
