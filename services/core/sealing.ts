/**
 * Envelope encryption of short secrets (endpoint signing secrets at rest): AES-256-GCM under a data key, the data
 * key itself stored beside each secret only in its encrypted form (by KMS, or a local key file). Pure: the key
 * provider is the caller's (services/aws/secret-keys.ts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { z } from "zod";

/** A data key: its plaintext seals and opens; only its encrypted form is stored. */
export interface DataKey {
  readonly plaintext: Uint8Array;
  /** Opaque to this module: the key provider's encrypted form (`kms:…` or `local:…`). */
  readonly encrypted: string;
}

export const sealedSchema = z.object({
  v: z.literal(1),
  /** The data key that seals this secret, encrypted by the key provider. */
  encryptedKey: z.string(),
  iv: z.string(),
  tag: z.string(),
  ciphertext: z.string(),
});
export type Sealed = z.infer<typeof sealedSchema>;

export interface Encrypted {
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

/**
 * AES-256-GCM with a fresh 96-bit IV. `aad` binds the ciphertext to where it belongs (a secret to its tenant and
 * endpoint): moved anywhere else, it no longer opens.
 */
export function encrypt(
  plain: Uint8Array,
  key: Uint8Array,
  aad: string,
  random: (n: number) => Buffer = randomBytes,
): Encrypted {
  const iv = random(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** The plaintext; throws if the key, the AAD or any byte is not what sealed it. */
export function decrypt(e: Encrypted, key: Uint8Array, aad: string): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, e.iv).setAAD(Buffer.from(aad)).setAuthTag(e.tag);
  return Buffer.concat([decipher.update(e.ciphertext), decipher.final()]);
}

export function seal(plain: string, key: DataKey, aad: string, random?: (n: number) => Buffer): Sealed {
  const e = encrypt(Buffer.from(plain, "utf8"), key.plaintext, aad, random);
  return {
    v: 1,
    encryptedKey: key.encrypted,
    iv: e.iv.toString("base64"),
    tag: e.tag.toString("base64"),
    ciphertext: e.ciphertext.toString("base64"),
  };
}

/** `dataKey` is the plaintext of `sealed.encryptedKey`. */
export function open(sealed: Sealed, dataKey: Uint8Array, aad: string): string {
  const b = (s: string) => Buffer.from(s, "base64");
  return decrypt({ iv: b(sealed.iv), tag: b(sealed.tag), ciphertext: b(sealed.ciphertext) }, dataKey, aad).toString(
    "utf8",
  );
}
