/**
 * Endpoint signing secrets at rest: the key provider (KMS in production, kms-keys.ts; a local key file for npm start,
 * compose and the tests, here) behind one small interface, its caches, and sealing a tenant's secrets in clear and
 * opening the ones a delivery signs with.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { lru } from "../lru.ts";
import { decrypt, encrypt, open, seal, type DataKey } from "../core/sealing.ts";
import type { SigningSecret, Tenant } from "../core/tenant.ts";

export interface KeyProvider {
  /** A data key to seal with: its plaintext, and its encrypted form that is stored beside each secret. */
  dataKey(): Promise<DataKey>;
  /** The plaintext of a data key from its encrypted form. */
  decrypt(encryptedKey: string): Promise<Uint8Array>;
}

/** How long the cached provider seals with one data key, and how long a decrypted data key is kept, at most. */
export interface KeyCacheOptions {
  /**
   * Each process seals with one data key this long: a fleet makes at most (tasks x days) data keys a day, so the
   * data keys a worker ever meets stay few. @default 86_400_000 (a day)
   */
  readonly dataKeyLifetimeMs?: number;
  /** Decrypted data keys kept, least recently used dropped: far more than a fleet makes in years. @default 100_000 */
  readonly maxDecrypted?: number;
  /** How long a decrypted data key is kept (also how long a disabled KMS key still opens secrets). @default a day */
  readonly decryptedTtlMs?: number;
}

/**
 * One data key per lifetime (not one KMS call per write), and each decrypted data key remembered by the SHA-256 of
 * its encrypted form (32 bytes a key, whatever KMS's ciphertext is), so a worker calls KMS Decrypt once per data key
 * per day, not per delivery. Plaintext data keys live in this process's memory only.
 */
export function cachedKeys(provider: KeyProvider, opts: KeyCacheOptions = {}): KeyProvider {
  const lifetimeMs = opts.dataKeyLifetimeMs ?? 86_400_000;
  let current: { key: Promise<DataKey>; until: number } | undefined;
  const decrypted = lru<string, Uint8Array, string>(opts.maxDecrypted ?? 100_000, {
    ttl: opts.decryptedTtlMs ?? 86_400_000,
    fetchMethod: (_digest, _stale, { context }) => provider.decrypt(context),
  });
  return {
    dataKey() {
      if (!current || current.until <= Date.now()) {
        const key = provider.dataKey();
        current = { key, until: Date.now() + lifetimeMs };
        // A failed call is not remembered: the next write asks again.
        key.catch(() => (current = undefined));
      }
      return current.key;
    },
    async decrypt(encryptedKey) {
      const digest = createHash("sha256").update(encryptedKey).digest("base64url");
      const key = await decrypted.fetch(digest, { context: encryptedKey });
      if (!key) throw new Error("data key not decrypted");
      return key;
    },
  };
}

/** Where a sealed secret belongs: it opens only there (the AAD), so a copy moved to another endpoint is useless. */
const placeOf = (tenantId: string, endpointId: string) => `${tenantId}/${endpointId}`;

/** Whether any of the tenant's secrets is stored in clear (written before sealing, or new and not yet written). */
export const hasSecretsInClear = (tenant: Tenant): boolean =>
  Object.values(tenant.endpoints).some((e) => e.secrets.some((s) => s.secret !== undefined));

/** The tenant with every secret still in clear sealed; the same object when there is none (no key is asked for). */
export async function sealSecrets(keys: KeyProvider, tenant: Tenant): Promise<Tenant> {
  if (!hasSecretsInClear(tenant)) return tenant;
  const key = await keys.dataKey();
  const endpoints = Object.fromEntries(
    Object.entries(tenant.endpoints).map(([endpointId, e]) => [
      endpointId,
      {
        ...e,
        secrets: e.secrets.map(({ secret, ...rest }) =>
          secret === undefined ? rest : { ...rest, sealed: seal(secret, key, placeOf(tenant.tenantId, endpointId)) },
        ),
      },
    ]),
  );
  return { ...tenant, endpoints };
}

/** The plaintexts of one endpoint's secrets (sealed or, stored before sealing, in clear), in the order given. */
export async function openSecrets(
  keys: KeyProvider,
  at: { tenantId: string; endpointId: string },
  secrets: readonly SigningSecret[],
): Promise<string[]> {
  return Promise.all(
    secrets.map(async (s) => {
      if (s.sealed === undefined) return s.secret ?? "";
      return open(s.sealed, await keys.decrypt(s.sealed.encryptedKey), placeOf(at.tenantId, at.endpointId));
    }),
  );
}

const localPrefix = "local:";

/**
 * Data keys encrypted with a 32-byte key from a file (npm start, docker compose, the tests): the same envelope as
 * KMS's, so the code paths are the ones production runs. The file is as secret as the secrets: mode 0600, never in
 * a backup of the table.
 */
export function localKeyProvider(masterKey: Uint8Array): KeyProvider {
  if (masterKey.length !== 32) throw new Error("a local secrets key is 32 bytes");
  return {
    dataKey() {
      const plaintext = randomBytes(32);
      const e = encrypt(plaintext, masterKey, "data-key");
      return Promise.resolve({
        plaintext,
        encrypted: `${localPrefix}${Buffer.concat([e.iv, e.tag, e.ciphertext]).toString("base64")}`,
      });
    },
    // A key that does not open is a rejection, never a throw before the promise.
    decrypt: (encryptedKey) =>
      Promise.resolve().then(() => {
        if (!encryptedKey.startsWith(localPrefix))
          throw new Error("this secret was sealed with a KMS key, not the local key file");
        const b = Buffer.from(encryptedKey.slice(localPrefix.length), "base64");
        return decrypt(
          { iv: b.subarray(0, 12), tag: b.subarray(12, 28), ciphertext: b.subarray(28) },
          masterKey,
          "data-key",
        );
      }),
  };
}

export async function readKeyFile(path: string): Promise<Uint8Array> {
  const key = await readFile(path);
  if (key.length !== 32) throw new Error(`${path} must hold exactly 32 bytes (it holds ${key.length})`);
  return key;
}

/**
 * Creates the key file with 32 random bytes (mode 0600) unless it exists: for the local stacks only. Never replaced:
 * a new key would leave every secret sealed with the old one unopenable.
 */
export async function ensureKeyFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, randomBytes(32), { mode: 0o600, flag: "wx" }).catch((err: unknown) => {
    if ((err as { code?: string }).code !== "EEXIST") throw err;
  });
}
