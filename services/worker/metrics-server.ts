/** The worker's own HTTP port (not behind the load balancer): Prometheus metrics and the container health check. */
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

/** `healthy` answers GET /healthz: false once the worker is stopping. */
export function createMetricsServer(registry: Registry, healthy: () => boolean): Server {
  return createServer((req, res) => {
    if (req.url === "/healthz") return res.writeHead(healthy() ? 200 : 503).end();
    if (req.url !== "/metrics") return res.writeHead(404).end();
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
}

/** The container health check's script (the image has no curl): exits 0 when the worker on `port` answers /healthz. */
export function livenessProbe(port: number): string {
  return `fetch('http://127.0.0.1:${port}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
}
