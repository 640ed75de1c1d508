/** Prefixed identifiers and generated credentials (API keys, signing secrets). */
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { ulid } from "ulid";

export type IdPrefix = "ten" | "ep" | "evt" | "msg" | "aud";

// ulid's default random source makes one CSPRNG call per character (16 per id, 2.8% of the API's CPU under
// load); the same CSPRNG bytes, drawn 4 KiB at a time. A byte / 256 picks each of the 32 characters evenly.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
function pooledRandom(): number {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool[poolAt++]! / 256;
}

/** A time-ordered random id such as `evt_01J...` (ULID body, 26 characters). */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${ulid(now, pooledRandom)}`;
}

/** `evt_` id derived from (tenant, Idempotency-Key): a repeat of the key maps to the same event. */
export function idempotentEventId(tenantId: string, idempotencyKey: string): string {
  const digest = createHash("sha256").update(`${tenantId}\n${idempotencyKey}`).digest("hex");
  return `evt_${digest.slice(0, 26)}`;
}

const idPattern = /^[A-Za-z0-9]{26}$/;

/** True when `value` looks like an id of this prefix; cheap guard before any storage read. */
export function isId(prefix: IdPrefix, value: string): boolean {
  return value.startsWith(`${prefix}_`) && idPattern.test(value.slice(prefix.length + 1));
}

export function sha256Hex(value: string | Uint8Array): string {
  return createHash("sha256").update(value).digest("hex");
}

export interface NewApiKey {
  /** `whk_<keyId>_<secret>`: shown once, never stored. */
  readonly apiKey: string;
  readonly keyId: string;
  /** `whk_<keyId>`: safe to display and log. */
  readonly displayPrefix: string;
  readonly keyHash: string;
}

export function newApiKey(random: (n: number) => Buffer = randomBytes): NewApiKey {
  return apiKeyParts(`whk_${random(6).toString("hex")}_${random(24).toString("base64url")}`);
}

/** What is stored and shown of a key `whk_<id>_<secret>` (a generated one, or a demo stack's fixed one). */
export function apiKeyParts(apiKey: string): NewApiKey {
  const id = apiKey.split("_")[1] ?? "";
  return { apiKey, keyId: `key_${id}`, displayPrefix: `whk_${id}`, keyHash: sha256Hex(apiKey) };
}

/** `whsec_` + base64 of 32 random bytes, the Standard Webhooks secret format. */
export function newSigningSecret(random: (n: number) => Buffer = randomBytes): string {
  return `whsec_${random(32).toString("base64")}`;
}
