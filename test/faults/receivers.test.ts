/** Hostile and broken receivers: every one ends DELIVERED once or DEAD by design, with a clear attempt log. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEvent, postEvent, type EventView } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "300ms", DELIVERY_TIMEOUT_MS: "1500" });
  receiver = await startReceiver();
  receiver.behave((req) => {
    const kind = req.url.split("/")[1];
    switch (kind) {
      case "status500":
        return { status: 500 };
      case "never":
        return { status: 200, delayMs: 30_000 };
      case "redirect301":
        return { status: 301, headers: { location: "/landed" } };
      case "redirect302":
        return { status: 302, headers: { location: "/landed" } };
      case "redirect307":
        return { status: 307, headers: { location: "/landed" } };
      default:
        return { status: 200 };
    }
  });
  stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

/** Sends one event to an endpoint at `url` and waits until it settles. */
async function deliverTo(url: string): Promise<EventView["deliveries"][number]> {
  const t = await stack.createTenant([{ url }]);
  const { body } = await postEvent(stack, t.apiKey, { type: "fault" });
  const event = await eventually(
    async () => {
      const e = await getEvent(stack, t.apiKey, body.event_id);
      return e.status !== "PENDING" ? e : undefined;
    },
    { what: `${url} to settle`, timeoutMs: 20_000 },
  );
  return event.deliveries[0]!;
}

describe("receivers that fail", () => {
  it.each([
    ["status500", null, "HTTP 500", 500],
    ["never", null, "timeout", null],
    ["redirect301", null, "redirect (301) not followed", 301],
    ["redirect302", null, "redirect (302) not followed", 302],
    ["redirect307", null, "redirect (307) not followed", 307],
  ])("%s: dead after the schedule's 2 attempts", async (kind, _unused, error, code) => {
    const d = await deliverTo(`${receiver.url.replace("/hook", "")}/${kind}`);
    expect(d).toMatchObject({ status: "DEAD", attempts: 2, last_error: error });
    expect(d.attempt_log.map((a) => [a.status_code, a.error])).toEqual([
      [code, error],
      [code, error],
    ]);
    expect(receiver.requests.filter((r) => r.url === "/landed")).toHaveLength(0);
  });

  it("429 with Retry-After: the retry waits longer than scheduled, within twice the delay", async () => {
    // Its own stack: a 2 s schedule, since SQS visibility counts whole seconds.
    const own = await startStack({ RETRY_SCHEDULE: "2s" });
    own.startWorker();
    try {
      const r = await startReceiver();
      r.behave((_req, n) => (n === 1 ? { status: 429, headers: { "retry-after": "3" } } : { status: 200 }));
      const t = await own.createTenant([{ url: r.url }]);
      const { body } = await postEvent(own, t.apiKey, { type: "429" });
      await eventually(async () => (await getEvent(own, t.apiKey, body.event_id)).status === "DELIVERED", {
        what: "delivered",
        timeoutMs: 15_000,
      });
      // Scheduled 2 s +-10% (at most 2.2 s); Retry-After asks 3 s, within [2 s, 4 s]: honoured.
      expect(r.requests[1]!.at - r.requests[0]!.at).toBeGreaterThanOrEqual(2900);
      await r.close();
    } finally {
      await own.close();
    }
  });

  it("connection reset, headers then a body that never ends, and a 10 MB body", async () => {
    const raw = createServerOn((socket, path) => {
      if (path === "/reset") socket.destroy();
      else if (path === "/stall") socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
      else if (path === "/huge") {
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 10485760\r\n\r\n");
        const chunk = Buffer.alloc(65536, 0x61);
        const pump = () => {
          while (socket.writable && socket.write(chunk));
        };
        socket.on("drain", pump);
        pump();
      }
    });
    const base = await raw.url;
    const reset = await deliverTo(`${base}/reset`);
    expect(reset).toMatchObject({ status: "DEAD", last_error: "connection reset" });
    // A 2xx counts once its status line arrives; the stalled body is cut at the timeout.
    const stall = await deliverTo(`${base}/stall`);
    expect(stall).toMatchObject({ status: "DELIVERED", attempts: 1 });
    expect(stall.attempt_log[0]).toMatchObject({ status_code: 200, response_excerpt: "partial" });
    const huge = await deliverTo(`${base}/huge`);
    expect(huge).toMatchObject({ status: "DELIVERED", attempts: 1 });
    expect(huge.attempt_log[0]!.response_excerpt!.length).toBe(4096);
    raw.close();
  });

  it("a TLS certificate that does not verify is a failed attempt, not a crash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-days",
        "1",
        "-keyout",
        join(dir, "k.pem"),
        "-out",
        join(dir, "c.pem"),
      ],
      {
        stdio: "ignore",
      },
    );
    const tls = createServer(
      { key: readFileSync(join(dir, "k.pem")), cert: readFileSync(join(dir, "c.pem")) },
      (_req, res) => res.writeHead(200).end(),
    );
    await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", () => resolve()));
    const d = await deliverTo(`https://127.0.0.1:${(tls.address() as AddressInfo).port}/hook`);
    expect(d.status).toBe("DEAD");
    expect(d.last_error).toMatch(
      /^TLS error \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID)\)$/,
    );
    tls.close();
  });
});

import { createServer as createTcpServer, type Socket } from "node:net";

/** A raw TCP server answering by hand, for misbehaviour an HTTP library would not produce. */
function createServerOn(handle: (socket: Socket, path: string) => void) {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.once("data", (data) => handle(socket, data.toString().split(" ")[1] ?? "/"));
  });
  const url = new Promise<string>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
  return {
    url,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
