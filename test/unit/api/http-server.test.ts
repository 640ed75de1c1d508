/** The API's HTTP server on loopback: keep-alive behind the load balancer, slow clients, and the drain. */
import type { Server } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { closeGracefully, createHttpServer } from "../../../services/api/http-server.ts";
import { albIdleTimeoutS } from "../../../services/core/timing.ts";

let server: Server | undefined;
afterEach(() => server?.close());

async function listen(handler: Parameters<typeof createHttpServer>[0], headersTimeoutMs = 10_000): Promise<number> {
  server = createHttpServer(handler, { headersTimeoutMs, requestTimeoutMs: Math.max(headersTimeoutMs, 30_000) });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}

/** A raw client socket and the text it has received so far. */
async function client(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  socket.on("data", (d: Buffer) => (text += d.toString()));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  return { socket, received: () => text, closed };
}
const request = "GET / HTTP/1.1\r\nHost: api\r\n\r\n";
const answered = (text: string) => text.match(/HTTP\/1\.1 200/g)?.length ?? 0;
const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
};

describe("the API's HTTP server", () => {
  it("keeps idle connections open longer than the load balancer's idle timeout", async () => {
    await listen((_req, res) => res.end("ok"));
    expect(server!.keepAliveTimeout).toBeGreaterThan(albIdleTimeoutS * 1000);
  });

  it("serves a keep-alive connection that sat idle longer than the headers timeout, so that timeout stays short", async () => {
    const c = await client(await listen((_req, res) => res.end("ok"), 100));
    c.socket.write(request);
    await until(() => answered(c.received()) === 1);
    // Idle across at least one of the server's once-a-second timeout checks, well past headersTimeout.
    await new Promise((r) => setTimeout(r, 1300));
    c.socket.write(request);
    await until(() => answered(c.received()) === 2);
    c.socket.destroy();
  });

  it("still cuts off a client that is slow to send its headers", async () => {
    const c = await client(await listen((_req, res) => res.end("ok"), 100));
    c.socket.write("GET / HTTP/1.1\r\nHost: api\r\n");
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it("drains: finishes the request in flight, then closes its connection without waiting out the keep-alive", async () => {
    let release: (() => void) | undefined;
    const c = await client(await listen((_req, res) => (release = () => res.end("ok"))));
    c.socket.write(request);
    await until(() => release !== undefined);
    const drained = closeGracefully(server!);
    release!();
    await drained;
    await c.closed;
    expect(answered(c.received())).toBe(1);
  });
});
