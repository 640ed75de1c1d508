/** Endpoint transitions: secret rotation keeps the list of live secrets short; disabling remembers why and since when. */
import { describe, expect, it } from "vitest";
import {
  endpointAfterAttempt,
  liveSecrets,
  maxLiveSecrets,
  newEndpointRecord,
  rotateSecret,
  updateEndpoint,
  type Endpoint,
} from "../../../services/core/tenant.ts";

const t0 = 1_800_000_000_000;
const day = 86_400_000;
const endpoint = (): Endpoint => newEndpointRecord({ url: "https://hooks.example/in" }, "whsec_0", t0);

describe("rotateSecret", () => {
  it("keeps at most three live secrets, dropping the oldest, however often one rotates", () => {
    let e = endpoint();
    for (let i = 1; i <= 1000; i++) e = rotateSecret(e, `whsec_${i}`, t0 + i, day);
    expect(e.secrets).toHaveLength(3);
    expect(liveSecrets(e, t0 + 1000).map((s) => s.secret)).toEqual(["whsec_1000", "whsec_999", "whsec_998"]);
    expect(maxLiveSecrets).toBe(3);
  });

  it("gives the older secrets the grace period (never a longer one than they had) and drops expired ones", () => {
    const once = rotateSecret(endpoint(), "whsec_1", t0, day);
    expect(once.secrets).toEqual([
      { secret: "whsec_1", createdAt: t0 },
      { secret: "whsec_0", createdAt: t0, expiresAt: t0 + day },
    ]);
    const twice = rotateSecret(once, "whsec_2", t0 + 1000, 7 * day);
    expect(twice.secrets.map((s) => [s.secret, s.expiresAt])).toEqual([
      ["whsec_2", undefined],
      ["whsec_1", t0 + 1000 + 7 * day],
      ["whsec_0", t0 + day],
    ]);
    expect(rotateSecret(twice, "whsec_3", t0 + 2 * day, day).secrets.map((s) => s.secret)).toEqual([
      "whsec_3",
      "whsec_2",
      "whsec_1",
    ]);
  });
});

describe("liveSecrets", () => {
  it("signs with the newest three only, even for a list stored long ago without a bound", () => {
    const many = {
      ...endpoint(),
      secrets: Array.from({ length: 200 }, (_, i) => ({
        secret: `whsec_${i}`,
        createdAt: t0 + i,
        expiresAt: t0 + day,
      })),
    };
    expect(liveSecrets(many, t0 + 500).map((s) => s.secret)).toEqual(["whsec_199", "whsec_198", "whsec_197"]);
    expect(liveSecrets(many, t0 + day)).toEqual([]);
  });
});

describe("disabling and enabling", () => {
  it("remembers why and since when an endpoint is disabled, keeps both when disabled again, forgets both on enable", () => {
    const gone = endpointAfterAttempt(endpoint(), { ok: false, gone: true, now: t0 + 5, disableAfterMs: day })!;
    expect(gone).toMatchObject({
      enabled: false,
      disabledAt: t0 + 5,
      disabledReason: expect.stringMatching(/^the endpoint answered 410 Gone/),
    });
    expect(updateEndpoint(gone, { enabled: false }, t0 + 9)).toMatchObject({
      disabledAt: t0 + 5,
      disabledReason: gone.disabledReason,
    });
    const back = updateEndpoint(gone, { enabled: true }, t0 + 9);
    expect(back).toMatchObject({
      enabled: true,
      disabledAt: undefined,
      disabledReason: undefined,
      failingSince: undefined,
    });
    expect(updateEndpoint(back, { enabled: false }, t0 + 10)).toMatchObject({
      enabled: false,
      disabledAt: t0 + 10,
      disabledReason: "disabled by request",
    });
  });
});
