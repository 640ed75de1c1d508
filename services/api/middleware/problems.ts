/** The one error handler: every error becomes application/problem+json, and a 500 never says why. */
import type { ErrorRequestHandler, RequestHandler } from "express";
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

export const problemHandler: ErrorRequestHandler = (err, req, res, _next) => {
  let problem = err instanceof ProblemError ? err : fromBodyParser(err);
  if (!problem && isBackendUnavailable(err)) {
    req.log.warn({ err }, "backend unavailable");
    res.setHeader("retry-after", "5");
    problem = problems.unavailable();
  }
  if (!problem) {
    req.log.error({ err }, "unhandled error");
    problem = problems.internal();
  }
  res.status(problem.status).set(problem.headers).type("application/problem+json").send(JSON.stringify(problem.toProblem()));
};

export const notFoundHandler: RequestHandler = (req) => {
  throw problems.notFound(`${req.method} ${req.path}`);
};
