/**
 * Whether a URL may be a webhook target: https on an allowed port, no credentials, no non-public literal address.
 * Where private targets are allowed (a local stack on emulators) http too, on any port.
 */
import { isIP } from "node:net";
import { checkAddress } from "./address-guard.ts";

/** Ports a public target may use unless configured (ALLOWED_TARGET_PORTS); 443 is always one. */
export const defaultTargetPorts: readonly number[] = [443, 8443];

/**
 * Why the scheme or port is refused, or undefined. Checked when an endpoint is written and again at every delivery
 * (an endpoint stored before a policy change, or behind the API's back): a tenant cannot make us probe other ports.
 */
export function schemeOrPortProblem(
  url: URL,
  allowPrivate: boolean,
  allowedPorts: readonly number[] = defaultTargetPorts,
): string | undefined {
  if (allowPrivate) return url.protocol === "https:" || url.protocol === "http:" ? undefined : "must use http or https";
  if (url.protocol !== "https:") return "must use https";
  const port = url.port === "" ? 443 : Number(url.port);
  const ports = [...new Set([443, ...allowedPorts])];
  return ports.includes(port) ? undefined : `must use port ${ports.join(" or ")}`;
}

/** The reason the URL is refused as an endpoint, or undefined when it is acceptable. */
export function endpointUrlProblem(
  text: string,
  allowPrivate: boolean,
  allowedPorts: readonly number[] = defaultTargetPorts,
): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute URL";
  }
  const schemeOrPort = schemeOrPortProblem(url, allowPrivate, allowedPorts);
  if (schemeOrPort) return schemeOrPort;
  if (url.username || url.password) return "must not carry credentials";
  if (url.hash) return "must not have a fragment";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!allowPrivate && isIP(host)) {
    const verdict = checkAddress(host);
    if (!verdict.allowed) return `points at a ${verdict.reason} address`;
  }
  return undefined;
}
