/** Whether a URL may be an endpoint: https (http only where private targets are allowed), no credentials. */
import { isIP } from "node:net";
import { checkAddress } from "./address-guard.ts";

/** The reason the URL is refused, or undefined when it is acceptable. */
export function endpointUrlProblem(text: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "https:" && !(allowPrivate && url.protocol === "http:")) {
    return allowPrivate ? "must use http or https" : "must use https";
  }
  if (url.username || url.password) return "must not carry credentials";
  if (url.hash) return "must not have a fragment";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!allowPrivate && isIP(host)) {
    const verdict = checkAddress(host);
    if (!verdict.allowed) return `points at a ${verdict.reason} address`;
  }
  return undefined;
}
