/**
 * The soak's receivers, one HTTP server whose path names the behaviour (`/<kind>/<tenant index>`), each request
 * kept in the log the verdict reads: fast (200), slow (200 after 2 s), never (holds the request until the worker's
 * timeout), flap (200 and 500 in turns of `flapMs`, 200 for good once `settle` is called), r429 (429 with Retry-After: 1 to the first request of every third
 * delivery: a receiver at its rate limit, not one failing), gone (200, then 410 from `goneAt`) and tls (its URL is https to this plain-HTTP server: every
 * handshake fails, nothing reaches the log).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const kinds = ["fast", "slow", "never", "flap", "r429", "gone", "tls"] as const;
export type Kind = (typeof kinds)[number];

export interface Arrival {
  readonly kind: Kind;
  /** The soak's id of the event (in its payload). */
  readonly id: string;
  readonly webhookId: string;
  readonly at: number;
  /** What this receiver answered; 0 when it never did. */
  readonly status: number;
}

export interface Receivers {
  /** The URL an endpoint of `kind` in tenant `tenant` gets. */
  url(kind: Kind, tenant: number): string;
  readonly arrivals: Arrival[];
  /** The flapping receivers' incident is over: 200 from now on (the drain then measures recovery). */
  settle(): void;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startReceivers(o: { flapMs: number; goneAt: number }): Promise<Receivers> {
  const arrivals: Arrival[] = [];
  let throttled = 0;
  let settled = false;
  const asked = new Set<string>();
  const started = Date.now();
  const server: Server = createServer((req, res) => {
    void bodyOf(req).then(async (text) => {
      const kind = req.url?.split("/")[1] as Kind;
      const id = (JSON.parse(text) as { soak?: { id?: string } }).soak?.id ?? "";
      const webhookId = String(req.headers["webhook-id"] ?? "");
      const at = Date.now();
      const answer = (status: number, headers: Record<string, string> = {}) => {
        arrivals.push({ kind, id, webhookId, at, status });
        res.writeHead(status, headers).end();
      };
      switch (kind) {
        case "never":
          arrivals.push({ kind, id, webhookId, at, status: 0 });
          return;
        case "slow":
          await new Promise((r) => setTimeout(r, 2000));
          return answer(200);
        case "flap":
          return answer(settled || Math.floor((at - started) / o.flapMs) % 2 === 0 ? 200 : 500);
        case "r429":
          if (asked.has(id) || ++throttled % 3 !== 0) return answer(200);
          asked.add(id);
          return answer(429, { "retry-after": "1" });
        case "gone":
          return answer(at < o.goneAt ? 200 : 410);
        default:
          return answer(200);
      }
    });
  });
  // The worker's timeout ends a `never` request; keep-alive sockets are the worker's to close.
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (kind, tenant) => `${kind === "tls" ? "https" : "http"}://127.0.0.1:${port}/${kind}/${tenant}`,
    arrivals,
    settle: () => void (settled = true),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
