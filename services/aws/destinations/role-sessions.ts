/**
 * Sessions in customers' roles: credentials from STS AssumeRole (the endpoint's external id, a session name naming
 * the tenant, a session policy allowing the one action on the one target), kept with the client made from them until
 * shortly before they expire. Concurrent deliveries to one destination share one AssumeRole; a failed one is not
 * kept, so the next delivery asks again. No static key is ever taken or stored: only what STS hands out, in memory.
 */
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import { sessionPolicy, type Destination, type Target } from "../../core/destination.ts";

/** Credentials as STS hands them out, with when they expire (epoch ms). */
export interface RoleCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiresAt: number;
}

/** Shortest session AWS grants: enough for many deliveries, and a revoked trust takes effect within it. */
export const sessionSeconds = 900;
/** A session is renewed this long before it expires, so no call goes out with credentials about to lapse. */
export const renewBeforeMs = 5 * 60_000;

/** The session name CloudTrail shows the customer: which tenant of ours called (64 characters of [\w+=,.@-] at most). */
export function sessionName(tenantId: string): string {
  return `webhooks-${tenantId}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
}

/** AssumeRole for one destination; throws what STS throws. */
export async function assumeRole(
  sts: STSClient,
  d: Destination,
  t: Target,
  tenantId: string,
): Promise<RoleCredentials> {
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: d.roleArn,
      ExternalId: d.externalId,
      RoleSessionName: sessionName(tenantId),
      Policy: sessionPolicy(t),
      DurationSeconds: sessionSeconds,
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
    throw Object.assign(new Error("AssumeRole answered without credentials"), { name: "NoCredentials" });
  const [accessKeyId, secretAccessKey, sessionToken] = [c.AccessKeyId, c.SecretAccessKey, c.SessionToken];
  return { accessKeyId, secretAccessKey, sessionToken, expiresAt: c.Expiration.getTime() };
}

export interface RoleSessionsOptions<C> {
  /** undefined: no role to assume (an emulator without STS), the session lasts. */
  readonly assume: (d: Destination, t: Target, tenantId: string) => Promise<RoleCredentials | undefined>;
  /** The service client for the target under these credentials (made once per session, then reused). */
  readonly clientFor: (t: Target, credentials: RoleCredentials | undefined) => C;
  readonly now: () => number;
}

export interface RoleSessions<C> {
  /** The client of the destination's current session, assuming its role first when there is none or it expires soon. */
  client(d: Destination, t: Target, tenantId: string): Promise<C>;
}

interface Session<C> {
  readonly ready: Promise<C>;
  /** Known once AssumeRole answered; until then the session is being had and is shared as it is. */
  expiresAt?: number;
}

export function createRoleSessions<C>(o: RoleSessionsOptions<C>): RoleSessions<C> {
  const sessions = new Map<string, Session<C>>();
  const fresh = (s: Session<C>) => s.expiresAt === undefined || s.expiresAt - renewBeforeMs > o.now();

  /** Sessions past their renewal go: a destination no longer delivered to keeps nothing in memory for long. */
  const forgetStale = () => {
    for (const [key, s] of sessions) if (!fresh(s)) sessions.delete(key);
  };

  function open(key: string, d: Destination, t: Target, tenantId: string): Session<C> {
    const session: Session<C> = {
      ready: o.assume(d, t, tenantId).then((credentials) => {
        session.expiresAt = credentials?.expiresAt ?? Infinity;
        return o.clientFor(t, credentials);
      }),
    };
    // A refusal is not kept: the customer may fix their role, and the next delivery should find out.
    session.ready.catch(() => {
      if (sessions.get(key) === session) sessions.delete(key);
    });
    forgetStale();
    sessions.set(key, session);
    return session;
  }

  return {
    client(d, t, tenantId) {
      // The session policy is the target's, so a changed target (or role, or external id) is another session.
      const key = JSON.stringify([d.type, d.roleArn, d.externalId, t.arn]);
      const current = sessions.get(key);
      return (current && fresh(current) ? current : open(key, d, t, tenantId)).ready;
    },
  };
}
