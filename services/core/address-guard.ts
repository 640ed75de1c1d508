/**
 * Which IP addresses a webhook may be sent to: only globally routable ones. Covers the IANA
 * special-purpose ranges and IPv4 addresses embedded in IPv6 (mapped, compatible, NAT64, 6to4).
 */
import { isIPv4, isIPv6 } from "node:net";

type Range = readonly [prefix: readonly number[], bits: number, reason: string];

const v4Ranges: readonly Range[] = [
  [[0], 8, "this-network"],
  [[10], 8, "private"],
  [[100, 64], 10, "carrier-grade NAT"],
  [[127], 8, "loopback"],
  [[169, 254], 16, "link-local"],
  [[172, 16], 12, "private"],
  [[192, 0, 0], 24, "IETF protocol assignments"],
  [[192, 0, 2], 24, "documentation"],
  [[192, 88, 99], 24, "6to4 relay"],
  [[192, 168], 16, "private"],
  [[198, 18], 15, "benchmarking"],
  [[198, 51, 100], 24, "documentation"],
  [[203, 0, 113], 24, "documentation"],
  [[224], 4, "multicast"],
  [[240], 4, "reserved"],
];

/** IPv6 ranges inside 2000::/3 that are still not public; everything outside 2000::/3 is refused. */
const v6Ranges: readonly Range[] = [
  [[0x20, 0x01, 0x00, 0x00], 23, "IETF protocol assignments"],
  [[0x20, 0x01, 0x0d, 0xb8], 32, "documentation"],
  [[0x3f, 0xff], 20, "documentation"],
];

function inRange(bytes: readonly number[], [prefix, bits]: Range): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const take = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

function v4Bytes(ip: string): number[] {
  return ip.split(".").map(Number);
}

/** 16 bytes of an IPv6 address already validated by `isIPv6` (may end in a dotted quad). */
function v6Bytes(ip: string): number[] {
  let text = ip.split("%")[0] ?? "";
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (quad) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Bytes(quad);
    text = text.slice(0, -quad.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const groups = (s: string | undefined) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

export type AddressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

function checkV4(bytes: readonly number[]): AddressVerdict {
  if (bytes.every((b) => b === 255)) return { allowed: false, reason: "broadcast" };
  const hit = v4Ranges.find((r) => inRange(bytes, r));
  return hit ? { allowed: false, reason: hit[2] } : { allowed: true };
}

function embeddedV4(bytes: readonly number[]): number[] | undefined {
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12); // ::ffff:a.b.c.d
  if (zeros(0, 12)) return bytes.slice(12); // ::a.b.c.d (deprecated compatible form), also :: and ::1
  if (inRange(bytes, [[0, 0x64, 0xff, 0x9b], 96, ""])) return bytes.slice(12); // NAT64
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6); // 6to4
  return undefined;
}

/** The verdict for one IP literal; anything that is not an IP literal is refused. */
export function checkAddress(ip: string): AddressVerdict {
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  if (isIPv4(bare)) return checkV4(v4Bytes(bare));
  if (!isIPv6(bare)) return { allowed: false, reason: "not an IP address" };
  const bytes = v6Bytes(bare);
  if (bytes.every((b) => b === 0)) return { allowed: false, reason: "unspecified" };
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return { allowed: false, reason: "loopback" };
  const v4 = embeddedV4(bytes);
  if (v4) {
    const inner = checkV4(v4);
    return inner.allowed ? inner : { allowed: false, reason: `${inner.reason} (embedded IPv4)` };
  }
  if (((bytes[0] ?? 0) & 0xe0) !== 0x20) {
    const b0 = bytes[0] ?? 0;
    const reason =
      b0 === 0xff
        ? "multicast"
        : (b0 & 0xfe) === 0xfc
          ? "unique local"
          : b0 === 0xfe
            ? "link-local"
            : "not global unicast";
    return { allowed: false, reason };
  }
  const hit = v6Ranges.find((r) => inRange(bytes, r));
  return hit ? { allowed: false, reason: hit[2] } : { allowed: true };
}
