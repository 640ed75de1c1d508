/**
 * Bearer authentication: on /v1 a tenant API key or a portal session token (signed, short-lived, one tenant, alive
 * only while the key that minted it is; a read-only one may only read), on /admin the admin token (compared in
 * constant time).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Request, RequestHandler } from "express";
import { problems } from "../../core/errors.ts";
import { sha256Hex } from "../../core/ids.ts";
import { portalTokenPrefix, verifyPortalToken } from "../../core/portal-token.ts";
import type { Tenant } from "../../core/tenant.ts";
import type { ApiKeyRecord } from "../../aws/api-keys.ts";

function bearer(req: Request): string | undefined {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(req.headers.authorization ?? "");
  return match?.[1];
}

export interface AuthFailures {
  /** A 429 while this client address has used up its failures. */
  check(address: string): void;
  /** Counts one failed authentication (a key or token that was offered and refused) against the address. */
  failed(address: string): void;
}

export interface TenantAuthDeps {
  /** Through a cache of AUTH_CACHE_TTL_MS: the bound on how late a revocation ends a key and its portal sessions. */
  readonly findApiKey: (keyHash: string) => Promise<ApiKeyRecord | undefined>;
  readonly getTenant: (tenantId: string) => Promise<Tenant | undefined>;
  /** Records the key's last-used day; called at most once a day per key per process. */
  readonly touch: (keyHash: string, day: string) => Promise<void>;
  readonly now: () => number;
  readonly failures: AuthFailures;
  /** Verifies portal session tokens (core's portalKey of the admin token). */
  readonly portalKey: Buffer;
}

/** What an API key looks like (`whk_<id>_<secret>`): anything else is refused without a lookup. */
const apiKeyShape = /^whk_[A-Za-z0-9]+_[A-Za-z0-9_-]{16,}$/;

declare module "express-serve-static-core" {
  interface Request {
    tenant?: Tenant;
    /** Set when the request came with a portal session token rather than an API key. */
    portalSession?: { readonly readOnly: boolean };
    /** The API key the request came with (a session minted with this request is bound to it). */
    apiKey?: Pick<ApiKeyRecord, "keyHash" | "keyId">;
  }
}

/**
 * Missing, unknown, revoked or expired credentials, an altered token, or a tenant not active: the same 401, so
 * nothing is learned by probing. A read-only portal session gets 403 on anything but GET and HEAD.
 */
export function tenantAuth(deps: TenantAuthDeps): RequestHandler {
  const touched = new Set<string>();
  /** The key's record while it is live (not revoked) for `tenantId`, else undefined. */
  const liveKey = async (keyHash: string, tenantId?: string) => {
    const record = await deps.findApiKey(keyHash);
    return record && record.revokedAt === undefined && (tenantId ?? record.tenantId) === record.tenantId
      ? record
      : undefined;
  };
  const viaKey = async (key: string, req: Request) => {
    const record = apiKeyShape.test(key) ? await liveKey(sha256Hex(key)) : undefined;
    const tenant = record && (await deps.getTenant(record.tenantId));
    if (!record || tenant?.status !== "active") return undefined;
    req.apiKey = { keyHash: record.keyHash, keyId: record.keyId };
    const day = new Date(deps.now()).toISOString().slice(0, 10);
    if (record.lastUsedDay !== day && !touched.has(`${record.keyHash}/${day}`)) {
      if (touched.size > 100_000) touched.clear();
      touched.add(`${record.keyHash}/${day}`);
      deps.touch(record.keyHash, day).catch((err: unknown) => req.log.warn({ err }, "last-used day not recorded"));
    }
    return tenant;
  };
  const viaSession = async (token: string, req: Request) => {
    const claims = verifyPortalToken(deps.portalKey, token, deps.now());
    // A session a key minted dies with the key: revoking a leaked key ends what it opened.
    const keyLive = claims && (claims.k === undefined || (await liveKey(claims.k, claims.t)) !== undefined);
    const tenant = claims && keyLive && (await deps.getTenant(claims.t));
    if (!claims || !tenant || tenant.status !== "active") return undefined;
    req.portalSession = { readOnly: claims.ro };
    return tenant;
  };
  return async (req, _res, next) => {
    const key = bearer(req);
    const address = req.ip ?? "";
    if (key) deps.failures.check(address);
    const tenant = key && (await (key.startsWith(portalTokenPrefix) ? viaSession(key, req) : viaKey(key, req)));
    if (!tenant) {
      if (key) deps.failures.failed(address);
      throw problems.unauthorized();
    }
    req.tenant = tenant;
    req.log = req.log.child({ tenant_id: tenant.tenantId, ...(req.portalSession ? { portal_session: true } : {}) });
    // The portal can do nothing the tenant's key could not, and a read-only session nothing but read.
    if (req.portalSession?.readOnly && req.method !== "GET" && req.method !== "HEAD")
      throw problems.forbidden("This portal session is read-only.");
    next();
  };
}

/** For what only the tenant's own key may do (open a portal session): not a portal session itself. */
export const requireApiKey: RequestHandler = (req, _res, next) => {
  if (req.portalSession || !req.apiKey)
    throw problems.forbidden("A portal session cannot open another one: use the tenant's API key.");
  next();
};

export function requireTenant(req: Request): Tenant {
  if (!req.tenant) throw problems.unauthorized();
  return req.tenant;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export function adminAuth(adminToken: string, failures: AuthFailures): RequestHandler {
  const expected = digest(adminToken);
  return (req, _res, next) => {
    const token = bearer(req);
    const address = req.ip ?? "";
    if (token) failures.check(address);
    // Comparing digests keeps the comparison constant-time whatever the offered length.
    if (token && timingSafeEqual(digest(token), expected)) return next();
    if (token?.startsWith("whk_") || token?.startsWith(portalTokenPrefix))
      throw problems.forbidden("Tenant API keys and portal sessions cannot use the admin API.");
    if (token) failures.failed(address);
    throw problems.unauthorized("The admin token is required as 'Authorization: Bearer <token>'.");
  };
}
