/** The API's HTTP server: slow clients are cut off, idle connections outlive the load balancer's. */
import { createServer, type RequestListener, type Server } from "node:http";
import { apiKeepAliveTimeoutMs } from "../core/timing.ts";

export interface HttpServerOptions {
  /** A client must send its headers within this (HEADERS_TIMEOUT_MS). */
  readonly headersTimeoutMs: number;
  /** A client must send its whole request within this (REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs: number;
}

export function createHttpServer(app: RequestListener, o: HttpServerOptions): Server {
  // Timeouts are checked every second rather than Node's default 30 s.
  return createServer(
    {
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      keepAliveTimeout: apiKeepAliveTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    app,
  );
}

/** Stops accepting connections; resolves once the open requests have been answered. */
export function closeGracefully(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // The keep-alive outlasts the load balancer's idle timeout: without this, a connection whose last response is
    // sent during the drain would stay open for minutes and hold up the exit. Idle ones close now, busy ones when done.
    server.keepAliveTimeout = 1;
    server.closeIdleConnections();
  });
}
