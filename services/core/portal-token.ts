/**
 * Portal sessions: a short-lived token for one tenant, signed by the API (HMAC-SHA256), optionally read-only, and
 * bound to the API key that minted it (when a key did). It travels in the portal URL's fragment (never in a query, so
 * never in a request log) and then as a bearer token on the same /v1 routes a tenant key uses: the portal can do
 * nothing the tenant's key could not, and nothing once that key is revoked.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

export const portalTokenPrefix = "wps_";

const claimsSchema = z.object({
  /** The tenant. */
  t: z.string(),
  /** Expiry, epoch seconds. */
  exp: z.number().int(),
  /** Read-only: GET only. */
  ro: z.boolean(),
  /**
   * The minting API key's SHA-256 (what the key store is keyed by, never the key): the session lives only while that
   * key does. Absent for a session an operator minted.
   */
  k: z.string().optional(),
});
export type PortalClaims = z.infer<typeof claimsSchema>;

/** The signing key, derived from a secret the API already has (rotating that secret ends every session). */
export function portalKey(secret: string): Buffer {
  return createHmac("sha256", secret).update("webhook-platform portal sessions v1").digest();
}

const sign = (key: Buffer, payload: string) => createHmac("sha256", key).update(payload).digest("base64url");

export function issuePortalToken(key: Buffer, claims: PortalClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${portalTokenPrefix}${payload}.${sign(key, payload)}`;
}

/** The claims of a token signed with `key` and not expired at `now` (epoch ms); undefined otherwise. */
export function verifyPortalToken(key: Buffer, token: string, now: number): PortalClaims | undefined {
  if (!token.startsWith(portalTokenPrefix)) return undefined;
  const [payload, signature, extra] = token.slice(portalTokenPrefix.length).split(".");
  if (!payload || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const claims = claimsSchema.parse(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")));
    return claims.exp * 1000 > now ? claims : undefined;
  } catch {
    return undefined;
  }
}
