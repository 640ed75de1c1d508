/** Sealing a signing secret: it opens with its data key where it was sealed, and nowhere and with nothing else. */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { open, seal, type DataKey } from "../../../services/core/sealing.ts";

const key: DataKey = { plaintext: randomBytes(32), encrypted: "local:opaque" };
const secret = "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0";

describe("seal / open", () => {
  it("round-trips, and the sealed form holds neither the secret nor the data key", () => {
    const sealed = seal(secret, key, "ten_1/ep_1");
    expect(open(sealed, key.plaintext, "ten_1/ep_1")).toBe(secret);
    const stored = JSON.stringify(sealed);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice(6));
    expect(stored).not.toContain(Buffer.from(key.plaintext).toString("base64"));
    expect(sealed).toMatchObject({ v: 1, encryptedKey: "local:opaque" });
  });

  it("never repeats an IV: the same secret sealed twice reads differently", () => {
    expect(seal(secret, key, "a").ciphertext).not.toBe(seal(secret, key, "a").ciphertext);
  });

  it("refuses another key, another place (tenant/endpoint), or any changed byte", () => {
    const sealed = seal(secret, key, "ten_1/ep_1");
    expect(() => open(sealed, randomBytes(32), "ten_1/ep_1")).toThrow();
    expect(() => open(sealed, key.plaintext, "ten_2/ep_1")).toThrow();
    const flipped = Buffer.from(sealed.ciphertext, "base64");
    flipped[0] = flipped[0]! ^ 1;
    expect(() => open({ ...sealed, ciphertext: flipped.toString("base64") }, key.plaintext, "ten_1/ep_1")).toThrow();
  });
});
