/** Domain errors with a stable problem `type`; the API's one error handler turns them into RFC 9457 bodies. */

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** `pointer`: where within a JSON document the field holds (a filter, a schema, the payload), RFC 6901. */
  readonly errors?: readonly { readonly path: string; readonly pointer?: string; readonly message: string }[];
}

const problemBase = "https://webhooks.dev/problems/";

export class ProblemError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly errors: ProblemDetails["errors"];
  /** Response headers that go with the problem (Retry-After). */
  headers: Record<string, string> = {};

  constructor(status: number, slug: string, title: string, detail: string, errors?: ProblemDetails["errors"]) {
    super(detail);
    this.name = "ProblemError";
    this.status = status;
    this.type = `${problemBase}${slug}`;
    this.title = title;
    this.errors = errors;
  }

  toProblem(): ProblemDetails {
    const { type, title, status, message: detail, errors } = this;
    return errors ? { type, title, status, detail, errors } : { type, title, status, detail };
  }
}

export const problems = {
  badRequest: (detail: string) => new ProblemError(400, "bad-request", "Bad request", detail),
  unauthorized: (detail = "A valid API key is required as 'Authorization: Bearer <key>'.") =>
    new ProblemError(401, "unauthorized", "Unauthorized", detail),
  forbidden: (detail: string) => new ProblemError(403, "forbidden", "Forbidden", detail),
  notFound: (what: string) => new ProblemError(404, "not-found", "Not found", `${what} was not found.`),
  conflict: (detail: string) => new ProblemError(409, "conflict", "Conflict", detail),
  tooLarge: (limit: number) =>
    new ProblemError(413, "payload-too-large", "Payload too large", `The body exceeds ${limit} bytes.`),
  unsupportedMediaType: () =>
    new ProblemError(
      415,
      "unsupported-media-type",
      "Unsupported media type",
      "Send the body as 'Content-Type: application/json'.",
    ),
  invalid: (errors: NonNullable<ProblemDetails["errors"]>, detail = "One or more fields are invalid.") =>
    new ProblemError(422, "validation", "Invalid fields", detail, errors),
  /** `limit` names what is exhausted, e.g. "This tenant's event rate limit". */
  tooManyRequests: (retryAfterS: number, limit = "This tenant's event rate limit") => {
    const p = new ProblemError(
      429,
      "rate-limited",
      "Too many requests",
      `${limit} is reached; retry in ${retryAfterS} s.`,
    );
    p.headers = { "retry-after": String(retryAfterS) };
    return p;
  },
  unavailable: () =>
    new ProblemError(503, "unavailable", "Service unavailable", "A backing store is unavailable; retry shortly."),
  internal: () => new ProblemError(500, "internal", "Internal error", "An unexpected error occurred."),
} as const;
