/**
 * Portal sessions: a link to the tenant portal for one tenant, minted by an operator (`/admin/tenants/{id}`) or by
 * the tenant with its own API key (`/v1`, never with a portal session; bound to that key, and throttled). The token
 * rides in the link's fragment, which browsers never send, so no request line or log ever holds it.
 */
import express, { Router, type Request, type RequestHandler } from "express";
import { z } from "zod";
import { issuePortalToken } from "../../core/portal-token.ts";
import { durationSchema } from "../../core/retry-policy.ts";
import { optionalJson, parseWith } from "../validate.ts";

/** The longest a portal session lasts, and how long one lasts unless asked for less. */
export const maxPortalSessionMs = 3_600_000;

/** Sessions a tenant's keys may open, per API task: 10 at once, then one every 6 s (429 with Retry-After beyond). */
export const portalSessionRate = { ratePerS: 1 / 6, burst: 10 } as const;

export const portalSessionSchema = z
  .object({
    read_only: z
      .boolean()
      .default(true)
      .meta({
        description:
          "The session may only read (the default): the API answers 403 to anything else, and the page shows no write " +
          "buttons. `false` for a session that may also write.",
      }),
    expires_in: durationSchema("15m or 1h")
      .refine((ms) => ms <= maxPortalSessionMs, "at most 1h")
      .optional()
      .meta({ description: "How long the link works, e.g. 15m; at most (and by default) 1h." }),
  })
  .strict();

export interface PortalSessionDeps {
  /** Signs the tokens (core's portalKey of the admin token). */
  readonly key: Buffer;
  /** The origin links point at (PUBLIC_URL); else the request's own scheme and host. */
  readonly publicUrl?: string | undefined;
  readonly now: () => number;
  /** The tenant a session is for, checked as its route requires (the key's, or a live tenant in the path). */
  readonly tenantIdOf: (req: Request) => string | Promise<string>;
  /** The API key minting it, which the session is bound to; undefined for an operator's (the admin token). */
  readonly keyOf: (req: Request) => { readonly keyHash: string; readonly keyId: string } | undefined;
  /** The tenant's limit on minting; a pass-through for operators. */
  readonly limit: RequestHandler;
}

export function portalSessionRoutes(deps: PortalSessionDeps): Router {
  const router = Router({ mergeParams: true });
  router.post("/", deps.limit, optionalJson, express.json({ limit: "4kb" }), async (req, res) => {
    const input = parseWith(portalSessionSchema, req.body ?? {});
    const tenantId = await deps.tenantIdOf(req);
    const key = deps.keyOf(req);
    // Whole seconds, rounded up: a session lasts at least what was asked for.
    const exp = Math.ceil((deps.now() + (input.expires_in ?? maxPortalSessionMs)) / 1000);
    const token = issuePortalToken(deps.key, {
      t: tenantId,
      exp,
      ro: input.read_only,
      ...(key ? { k: key.keyHash } : {}),
    });
    const origin = deps.publicUrl?.replace(/\/+$/, "") ?? `${req.protocol}://${req.get("host") ?? "localhost"}`;
    const expiresAt = new Date(exp * 1000).toISOString();
    req.log.info(
      { tenant_id: tenantId, read_only: input.read_only, expires_at: expiresAt, key_id: key?.keyId ?? null },
      "portal session opened",
    );
    res
      .status(201)
      .json({ url: `${origin}/portal/#token=${token}`, expires_at: expiresAt, read_only: input.read_only });
  });
  return router;
}
