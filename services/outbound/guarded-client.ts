/**
 * The one outbound HTTP client: resolves the host once, refuses non-public addresses, connects to
 * the address it checked (no second lookup), never follows redirects, caps time and bytes read.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import got, { type RequestError } from "got";
import { checkAddress } from "../core/address-guard.ts";
import type { AttemptVerdict } from "../core/attempt-outcome.ts";
import { defaultTargetPorts, schemeOrPortProblem } from "../core/endpoint-url.ts";

export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: ResolveAll = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

/**
 * What a tenant reads in its attempt log for a refused address: nothing more. Which name resolved to which
 * internal address, and what kind it is, would let a tenant map our network; that detail goes to our logs only.
 */
export const refusedAddress = "refused: the address is not public";

export class BlockedAddressError extends Error {
  readonly code = "EBLOCKEDADDRESS";
  constructor(host: string, address: string, reason: string) {
    super(`refused ${reason} address ${address} for ${host}`);
    this.name = "BlockedAddressError";
  }
}

export interface GuardOptions {
  readonly allowPrivate: boolean;
  /** Ports a public target may use (443 always; any where private targets are allowed). @default defaultTargetPorts */
  readonly allowedPorts?: readonly number[];
  /** Injectable for tests (rebinding, private answers); the system resolver by default. */
  readonly resolve?: ResolveAll;
}

export interface GuardedAddress {
  readonly address: string;
  readonly family: number;
}

/**
 * Resolves `hostname` once and checks every answer: one non-public answer refuses the whole name,
 * so a mixed record set cannot smuggle a private address past the check.
 */
export async function resolveGuarded(hostname: string, opts: GuardOptions): Promise<GuardedAddress> {
  const bare = hostname.replace(/^\[(.*)\]$/, "$1");
  const literal = isIP(bare);
  const addresses = literal ? [{ address: bare, family: literal }] : await (opts.resolve ?? systemResolve)(bare);
  const first = addresses[0];
  if (!first) throw new Error(`no address for ${hostname}`);
  if (!opts.allowPrivate) {
    for (const a of addresses) {
      const verdict = checkAddress(a.address);
      if (!verdict.allowed) throw new BlockedAddressError(hostname, a.address, verdict.reason);
    }
  }
  return { address: first.address, family: first.family };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for http.request that answers only with the guarded address. */
function guardedLookup(opts: GuardOptions) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolveGuarded(hostname, opts).then(
      (a) => (options.all ? callback(null, [a]) : callback(null, a.address, a.family)),
      (err: unknown) => callback(err as NodeJS.ErrnoException, ""),
    );
  };
}

export interface PostResult {
  readonly statusCode?: number | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The first bytes of the response body (at most `maxResponseBytes`), as text. */
  readonly bodyExcerpt: string;
  readonly durationMs: number;
  /** Why no complete response was had: blocked address, timeout, connection or TLS error. Shown to the tenant. */
  readonly error?: string | undefined;
  /** More about `error` for our logs only (which address was refused, and why). */
  readonly errorDetail?: string | undefined;
  /** What a failure without a status means (set by the AWS destination sender; never for HTTP). */
  readonly verdict?: AttemptVerdict | undefined;
}

export interface ClientOptions extends GuardOptions {
  readonly timeoutMs: number;
  /** @default 65536 */
  readonly maxResponseBytes?: number;
  readonly userAgent: string;
  /** For tests against a self-signed receiver only. @default true */
  readonly rejectUnauthorized?: boolean;
}

export interface GuardedClient {
  post(url: string, body: Uint8Array, headers: Record<string, string>): Promise<PostResult>;
  close(): void;
}

function describe(err: RequestError): string {
  const code = err.code;
  if (code === "EBLOCKEDADDRESS") return refusedAddress;
  if (code === "ETIMEDOUT") return "timeout";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "EPIPE") return "connection reset";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  if (/CERT|SSL|TLS|SELF_SIGNED/.test(code)) return `TLS error (${code})`;
  return code ? `${code}: ${err.message}` : err.message;
}

export function createGuardedClient(opts: ClientOptions): GuardedClient {
  const lookup = guardedLookup(opts);
  const agent = {
    http: new http.Agent({ keepAlive: true, lookup }),
    https: new https.Agent({ keepAlive: true, lookup, rejectUnauthorized: opts.rejectUnauthorized ?? true }),
  };
  const cap = opts.maxResponseBytes ?? 65_536;

  return {
    post(url, body, headers) {
      const started = performance.now();
      const refused = checkTargetUrl(url, opts);
      if (refused) return Promise.resolve({ headers: {}, bodyExcerpt: "", durationMs: 0, ...refused });
      return new Promise<PostResult>((resolve) => {
        let statusCode: number | undefined;
        let responseHeaders: PostResult["headers"] = {};
        const chunks: Buffer[] = [];
        let read = 0;
        let done = false;
        const finish = (error?: string, errorDetail?: string) => {
          if (done) return;
          done = true;
          stream.destroy();
          const durationMs = Math.round(performance.now() - started);
          const bodyExcerpt = Buffer.concat(chunks).subarray(0, cap).toString("utf8");
          resolve({ statusCode, headers: responseHeaders, bodyExcerpt, durationMs, error, errorDetail });
        };
        const stream = got.stream.post(url, {
          body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
          headers: { ...headers, "user-agent": opts.userAgent },
          agent,
          dnsLookup: lookup,
          followRedirect: false,
          throwHttpErrors: false,
          retry: { limit: 0 },
          decompress: true,
          timeout: { request: opts.timeoutMs },
        });
        stream.on("response", (res: http.IncomingMessage) => {
          statusCode = res.statusCode;
          responseHeaders = res.headers;
        });
        stream.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          read += chunk.length;
          if (read >= cap) finish();
        });
        stream.on("end", () => finish());
        stream.on("error", (err: RequestError) => finish(describe(err), err.message));
      });
    },
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

/**
 * What can be refused before any lookup or socket: the scheme and port (an endpoint stored before a policy change or
 * behind the API's back), and literal IP hosts, which never reach `lookup`. Answers the tenant's text and our detail.
 */
export function checkTargetUrl(url: string, opts: GuardOptions): { error: string; errorDetail: string } | undefined {
  const target = new URL(url);
  const schemeOrPort = schemeOrPortProblem(target, opts.allowPrivate, opts.allowedPorts ?? defaultTargetPorts);
  if (schemeOrPort)
    return {
      error: `refused: the URL ${schemeOrPort}`,
      errorDetail: `refused ${target.protocol}//…:${target.port || "443"}: ${schemeOrPort}`,
    };
  const bare = target.hostname.replace(/^\[(.*)\]$/, "$1");
  if (opts.allowPrivate || !isIP(bare)) return undefined;
  const verdict = checkAddress(bare);
  return verdict.allowed
    ? undefined
    : { error: refusedAddress, errorDetail: `refused ${verdict.reason} address ${bare}` };
}
