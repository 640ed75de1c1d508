import { describe, expect, it } from "vitest";
import { issuePortalToken, portalKey, verifyPortalToken } from "../../../services/core/portal-token.ts";

const key = portalKey("an-admin-token-of-at-least-32-characters");
const claims = { t: "ten_01ABCDEFGHJKMNPQRSTVWXYZ0", exp: 2_000_000_000, ro: true };

describe("portal tokens", () => {
  it("verify while unexpired, with the claims they were issued with", () => {
    const token = issuePortalToken(key, claims);
    expect(token.startsWith("wps_")).toBe(true);
    expect(verifyPortalToken(key, token, 1_999_999_999_000)).toEqual(claims);
    expect(verifyPortalToken(key, token, 2_000_000_000_000)).toBeUndefined();
  });

  it("carry the minting key's hash, which cannot be swapped for another", () => {
    const bound = { ...claims, k: "a".repeat(64) };
    const token = issuePortalToken(key, bound);
    expect(verifyPortalToken(key, token, 0)).toEqual(bound);
    const [, signature] = token.slice(4).split(".") as [string, string];
    const swapped = Buffer.from(JSON.stringify({ ...bound, k: "b".repeat(64) })).toString("base64url");
    expect(verifyPortalToken(key, `wps_${swapped}.${signature}`, 0)).toBeUndefined();
  });

  it("refuse an altered payload or signature, another key, and anything else", () => {
    const token = issuePortalToken(key, claims);
    const [payload, signature] = token.slice(4).split(".") as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...claims, ro: false })).toString("base64url");
    for (const bad of [
      `wps_${forged}.${signature}`,
      `wps_${payload}.${signature.slice(0, -2)}AA`,
      `${token}.x`,
      "wps_",
      "whk_abc",
      token.slice(4),
    ]) {
      expect(verifyPortalToken(key, bad, 0)).toBeUndefined();
    }
    expect(verifyPortalToken(portalKey("another-admin-token-of-32-characters-"), token, 0)).toBeUndefined();
  });
});
