/** Data keys from AWS KMS for sealing endpoint signing secrets: the production key provider (see secret-keys.ts). */
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import type { KeyProvider } from "./secret-keys.ts";

const kmsPrefix = "kms:";
/** Binds every data key to this use: a key policy can require it, and CloudTrail shows it on every call. */
const encryptionContext = { purpose: "webhook-signing-secrets" };

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
      const out = await kms.send(
        new DecryptCommand({ CiphertextBlob: blob, KeyId: keyId, EncryptionContext: encryptionContext }),
      );
      if (!out.Plaintext) throw new Error("KMS answered no plaintext");
      return out.Plaintext;
    },
  };
}
