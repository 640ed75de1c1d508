/** Data keys from AWS KMS for sealing endpoint signing secrets: the production key provider (see secret-keys.ts). */
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import type { KeyProvider } from "./secret-keys.ts";

const kmsPrefix = "kms:";
/** Binds every data key to this use: a key policy can require it, and CloudTrail shows it on every call. */
const encryptionContext = { purpose: "webhook-signing-secrets" };

/**
 * Seals with data keys of `keyId`; opens whatever a data key names. A KMS ciphertext names the key that made it, so
 * Decrypt is not pinned to `keyId`: secrets sealed under an earlier key (a deployment that moved to another key, or
 * re-adopted its retained one) still open wherever the task role may decrypt with that key.
 */
export function kmsKeyProvider(kms: KMSClient, keyId: string): KeyProvider {
  return {
    async dataKey() {
      const out = await kms.send(
        new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256", EncryptionContext: encryptionContext }),
      );
      if (!out.Plaintext || !out.CiphertextBlob) throw new Error("KMS answered no data key");
      return {
        plaintext: out.Plaintext,
        encrypted: `${kmsPrefix}${Buffer.from(out.CiphertextBlob).toString("base64")}`,
      };
    },
    async decrypt(encryptedKey) {
      if (!encryptedKey.startsWith(kmsPrefix)) throw new Error("this secret was sealed with a local key file, not KMS");
      const blob = Buffer.from(encryptedKey.slice(kmsPrefix.length), "base64");
      const out = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: encryptionContext }));
      if (!out.Plaintext) throw new Error("KMS answered no plaintext");
      return out.Plaintext;
    },
  };
}
