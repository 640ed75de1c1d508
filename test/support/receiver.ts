/**
 * A real HTTP receiver on loopback with scriptable replies; it records every request and checks
 * signatures with independent verifiers (the standardwebhooks and stripe packages), not our code.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";

export interface ReceivedRequest {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly at: number;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Wait this long before answering (timeouts). */
  readonly delayMs?: number;
}

export type Behaviour = (req: ReceivedRequest, n: number) => Reply;

export interface TestReceiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Requests received and not answered yet. */
  open(): number;
  behave(fn: Behaviour): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<TestReceiver> {
  const requests: ReceivedRequest[] = [];
  let open = 0;
  let behaviour: Behaviour = () => ({ status: 200, body: "ok" });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received = { url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      requests.push(received);
      const reply = behaviour(received, requests.length);
      open++;
      const send = () => {
        open--;
        if (res.destroyed) return;
        res.writeHead(reply.status, reply.headers).end(reply.body ?? "");
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    open: () => open,
    behave(fn) {
      behaviour = fn;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Throws unless both signatures verify with the packages receivers actually use. */
export function verifyWithIndependentLibraries(req: ReceivedRequest, secret: string): void {
  const h = (name: string) => String(req.headers[name] ?? "");
  new Webhook(secret).verify(req.body, {
    "webhook-id": h("webhook-id"),
    "webhook-timestamp": h("webhook-timestamp"),
    "webhook-signature": h("webhook-signature"),
  });
  Stripe.webhooks.constructEvent(req.body, h("stripe-signature"), secret, 300);
}
