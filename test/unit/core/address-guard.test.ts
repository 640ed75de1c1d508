import { describe, expect, it } from "vitest";
import { checkAddress } from "../../../services/core/address-guard.ts";
import { endpointUrlProblem } from "../../../services/core/endpoint-url.ts";

// Decisions only: nothing here opens a connection.
const refused: [string, string][] = [
  ["0.0.0.0", "this-network"],
  ["0.1.2.3", "this-network"],
  ["10.0.0.1", "private"],
  ["10.255.255.255", "private"],
  ["100.64.0.1", "carrier-grade NAT"],
  ["100.127.255.254", "carrier-grade NAT"],
  ["127.0.0.1", "loopback"],
  ["127.255.0.9", "loopback"],
  ["169.254.169.254", "link-local"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.0.0.8", "IETF protocol assignments"],
  ["192.0.2.1", "documentation"],
  ["192.168.1.1", "private"],
  ["198.18.0.1", "benchmarking"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "broadcast"],
  ["::", "unspecified"],
  ["::1", "loopback"],
  ["[::1]", "loopback"],
  ["::ffff:127.0.0.1", "loopback (embedded IPv4)"],
  ["::ffff:7f00:1", "loopback (embedded IPv4)"],
  ["::ffff:169.254.169.254", "link-local (embedded IPv4)"],
  ["::ffff:10.0.0.1", "private (embedded IPv4)"],
  ["::127.0.0.1", "loopback (embedded IPv4)"],
  ["64:ff9b::a9fe:a9fe", "link-local (embedded IPv4)"],
  ["2002:7f00:1::", "loopback (embedded IPv4)"],
  ["2002:c0a8:101::1", "private (embedded IPv4)"],
  ["fc00::1", "unique local"],
  ["fd12:3456::1", "unique local"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local"],
  ["ff02::1", "multicast"],
  ["2001:db8::1", "documentation"],
  ["2001::1", "IETF protocol assignments"],
  ["100::1", "not global unicast"],
  ["localhost", "not an IP address"],
  ["0x7f000001", "not an IP address"],
];

const allowed = [
  "93.184.216.34",
  "8.8.8.8",
  "1.1.1.1",
  "172.32.0.1",
  "100.128.0.1",
  "2606:4700:4700::1111",
  "2a00:1450:4001:80b::200e",
  "::ffff:8.8.8.8",
  "2002:808:808::1",
];

describe("checkAddress", () => {
  it.each(refused)("refuses %s (%s)", (ip, reason) => {
    expect(checkAddress(ip)).toEqual({ allowed: false, reason });
  });

  it.each(allowed)("allows public %s", (ip) => {
    expect(checkAddress(ip)).toEqual({ allowed: true });
  });
});

describe("endpointUrlProblem", () => {
  it("canonicalises every IPv4 spelling before checking it", () => {
    // WHATWG URL parsing turns these into 127.0.0.1, which the guard then refuses.
    for (const host of ["0x7f000001", "2130706433", "017700000001", "127.1", "0x7f.1", "127.0.0.1."]) {
      expect(endpointUrlProblem(`https://${host}/hook`, false), host).toBe("points at a loopback address");
    }
    expect(endpointUrlProblem("https://[::ffff:127.0.0.1]/", false)).toBe(
      "points at a loopback (embedded IPv4) address",
    );
    expect(endpointUrlProblem("https://[::1]:8443/", false)).toBe("points at a loopback address");
  });

  it("requires https and refuses credentials unless private targets are allowed", () => {
    expect(endpointUrlProblem("http://example.com/hook", false)).toBe("must use https");
    expect(endpointUrlProblem("http://127.0.0.1:3001/hook", true)).toBeUndefined();
    expect(endpointUrlProblem("https://user:pw@example.com/", false)).toBe("must not carry credentials");
    expect(endpointUrlProblem("ftp://example.com/", true)).toBe("must use http or https");
    expect(endpointUrlProblem("not a url", false)).toBe("must be an absolute URL");
    expect(endpointUrlProblem("https://example.com/hook", false)).toBeUndefined();
  });

  it("allows public targets on 443 and the configured ports only, so tenants cannot use us to probe ports", () => {
    expect(endpointUrlProblem("https://example.com:8443/hook", false)).toBeUndefined();
    expect(endpointUrlProblem("https://example.com:443/hook", false, [9443])).toBeUndefined();
    for (const port of [22, 25, 80, 6379, 9443])
      expect(endpointUrlProblem(`https://example.com:${port}/`, false), String(port)).toBe("must use port 443 or 8443");
    expect(endpointUrlProblem("https://example.com:9443/", false, [9443])).toBeUndefined();
    // A local stack's receivers listen anywhere.
    expect(endpointUrlProblem("http://127.0.0.1:3001/", true, [443])).toBeUndefined();
  });
});
