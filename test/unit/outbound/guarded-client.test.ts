import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { createGuardedClient, resolveGuarded, type ResolveAll } from "../../../services/outbound/guarded-client.ts";

const answers = (...sets: string[][]): ResolveAll & { calls: number } => {
  const fn = Object.assign(
    (): Promise<LookupAddress[]> => {
      const set = sets[Math.min(fn.calls, sets.length - 1)] ?? [];
      fn.calls++;
      return Promise.resolve(set.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));
    },
    { calls: 0 },
  );
  return fn;
};

describe("resolveGuarded", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["169.254.169.254", "link-local"],
    ["10.1.2.3", "private"],
    ["::ffff:127.0.0.1", "loopback (embedded IPv4)"],
  ])("refuses a name resolving to %s", async (address, reason) => {
    await expect(resolveGuarded("evil.example", { allowPrivate: false, resolve: answers([address]) })).rejects.toThrow(
      reason,
    );
  });

  it("refuses a name when any of its answers is private", async () => {
    await expect(
      resolveGuarded("mixed.example", { allowPrivate: false, resolve: answers(["93.184.216.34", "10.0.0.1"]) }),
    ).rejects.toThrow("private");
  });

  it("resolves once and answers the checked address (a rebinding second answer is never asked for)", async () => {
    const resolve = answers(["93.184.216.34"], ["127.0.0.1"]);
    await expect(resolveGuarded("rebind.example", { allowPrivate: false, resolve })).resolves.toEqual({
      address: "93.184.216.34",
      family: 4,
    });
    expect(resolve.calls).toBe(1);
  });

  it("allows loopback only when private targets are allowed", async () => {
    await expect(resolveGuarded("localhost", { allowPrivate: true, resolve: answers(["127.0.0.1"]) })).resolves.toEqual(
      {
        address: "127.0.0.1",
        family: 4,
      },
    );
  });
});

const noLookup: ResolveAll = () => Promise.reject(new Error("no lookup expected"));

describe("GuardedClient.post", () => {
  it("re-checks the scheme and the port at delivery, before any lookup (an endpoint stored before a policy change)", async () => {
    const client = createGuardedClient({ allowPrivate: false, timeoutMs: 1000, userAgent: "t", resolve: noLookup });
    const http = await client.post("http://hooks.example/in", Buffer.from("{}"), {});
    expect([http.statusCode, http.error]).toEqual([undefined, "refused: the URL must use https"]);
    const ssh = await client.post("https://hooks.example:22/in", Buffer.from("{}"), {});
    expect([ssh.statusCode, ssh.error]).toEqual([undefined, "refused: the URL must use port 443 or 8443"]);
    const custom = createGuardedClient({
      allowPrivate: false,
      allowedPorts: [9443],
      timeoutMs: 1000,
      userAgent: "t",
      resolve: noLookup,
    });
    expect((await custom.post("https://hooks.example:8443/in", Buffer.from("{}"), {})).error).toBe(
      "refused: the URL must use port 443 or 9443",
    );
    client.close();
    custom.close();
  });

  it("refuses literal private addresses before opening a socket", async () => {
    const client = createGuardedClient({ allowPrivate: false, timeoutMs: 1000, userAgent: "t" });
    for (const url of [
      "https://127.0.0.1/",
      "https://[::1]/",
      "https://0x7f000001:8443/",
      "https://[::ffff:7f00:1]/",
    ]) {
      const res = await client.post(url, Buffer.from("{}"), {});
      expect(res.statusCode).toBeUndefined();
      expect(res.error).toBe("refused: the address is not public");
      expect(res.errorDetail).toMatch(/^refused loopback/);
    }
    client.close();
  });

  it("refuses a name that resolves to a private address, as a failed attempt that tells the tenant nothing about our network", async () => {
    const client = createGuardedClient({
      allowPrivate: false,
      timeoutMs: 1000,
      userAgent: "t",
      resolve: answers(["127.0.0.1"]),
    });
    const res = await client.post("https://internal.example/", Buffer.from("{}"), {});
    // The tenant reads `error` in its attempt log: no name, no address, no kind of address.
    expect(res.error).toBe("refused: the address is not public");
    expect(res.errorDetail).toBe("refused loopback address 127.0.0.1 for internal.example");
    client.close();
  });
});
