/**
 * The generated API class with a client configured for one credential: bearer auth, retries of 429/503, an
 * Idempotency-Key on every event sent without one, and problem+json answers thrown as ProblemError.
 */
import { createClient, createConfig } from "./generated/client/index.ts";
import { PlatformApi } from "./generated/sdk.gen.ts";
import { problemError } from "./problem.ts";
import { retryingFetch, type RetryOptions } from "./retry.ts";

export interface PlatformClientOptions {
  /** The API's origin (and path prefix, if any): `https://webhooks.example.com`. */
  readonly baseUrl: string;
  /** A tenant API key (`whk_…`), a portal session token (`wps_…`), or the operator's admin token. */
  readonly token: string;
  /** @default { maxRetries: 3, maxDelayMs: 30_000 } */
  readonly retry?: RetryOptions;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export function createPlatformClient(opts: PlatformClientOptions): PlatformApi {
  const client = createClient(
    createConfig({
      baseUrl: opts.baseUrl.replace(/\/+$/, ""),
      auth: opts.token,
      fetch: retryingFetch(opts.fetch ?? globalThis.fetch, opts.retry),
      throwOnError: true,
    }),
  );
  // A send retried (here, or by the caller on a timeout) must not become a second event: the key makes it the same
  // one. Set once per call, before the retries, so every retry carries it.
  client.interceptors.request.use((request, options) => {
    if (options.method === "POST" && options.url === "/v1/events" && !request.headers.has("idempotency-key")) {
      request.headers.set("idempotency-key", crypto.randomUUID());
    }
    return request;
  });
  client.interceptors.error.use((error, response) =>
    response !== undefined && !response.ok ? problemError(error, response) : error,
  );
  return new PlatformApi({ client });
}
