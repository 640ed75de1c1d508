/** The one error handler: every error becomes application/problem+json, and a 500 never says why. */
import { STATUS_CODES } from "node:http";
import type { ErrorRequestHandler, Request, RequestHandler } from "express";
import { ProblemError, problems } from "../../core/errors.ts";
import { isBackendUnavailable } from "../../aws/errors.ts";

/** body-parser's error types, mapped to the problem a client can act on. */
function fromBodyParser(err: unknown): ProblemError | undefined {
  if (typeof err !== "object" || err === null || !("type" in err)) return undefined;
  switch (err.type) {
    case "entity.too.large":
      return problems.tooLarge((err as { limit?: number }).limit ?? 0);
    case "entity.parse.failed":
      return problems.badRequest("The body is not valid JSON.");
    case "encoding.unsupported":
    case "charset.unsupported":
      return problems.unsupportedMediaType();
    case "request.aborted":
    case "request.size.invalid":
      return problems.badRequest("The body was not received completely.");
    default:
      return undefined;
  }
}

/**
 * Any other error carrying a client status (http-errors from Express and its middleware: serve-static's 404 for
 * a missing asset, body-parser's other 4xx) is that client error, not a 500 that counts against the 5xx alarm.
 * Its message is not passed on: serve-static's names a path on our disk.
 */
function fromHttpError(err: unknown, req: Request): ProblemError | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const code = typeof status === "number" ? status : statusCode;
  if (typeof code !== "number" || code < 400 || code > 499) return undefined;
  if (code === 404) return problems.notFound(`${req.method} ${req.path}`);
  const title = STATUS_CODES[code] ?? "Client error";
  return new ProblemError(code, title.toLowerCase().replace(/[^a-z0-9]+/g, "-"), title, `${title}.`);
}

export const problemHandler: ErrorRequestHandler = (err, req, res, _next) => {
  let problem = err instanceof ProblemError ? err : (fromBodyParser(err) ?? fromHttpError(err, req));
  if (!problem && isBackendUnavailable(err)) {
    req.log.warn({ err }, "backend unavailable");
    res.setHeader("retry-after", "5");
    problem = problems.unavailable();
  }
  if (!problem) {
    req.log.error({ err }, "unhandled error");
    problem = problems.internal();
  }
  res
    .status(problem.status)
    .set(problem.headers)
    .type("application/problem+json")
    .send(JSON.stringify(problem.toProblem()));
};

export const notFoundHandler: RequestHandler = (req) => {
  throw problems.notFound(`${req.method} ${req.path}`);
};
