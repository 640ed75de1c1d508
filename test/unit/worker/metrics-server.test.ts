/** The worker's metrics port: what the container health check and a Prometheus scraper get. */
import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetricsServer, livenessProbe } from "../../../services/worker/metrics-server.ts";

const servers: { close(): unknown }[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function start(healthy: () => boolean): Promise<string> {
  const registry = new Registry();
  new Counter({ name: "webhooks_test_total", help: "a counter", registers: [registry] }).inc();
  const server = createMetricsServer(registry, healthy);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("the worker's metrics server", () => {
  it("answers /healthz 200 while the worker runs and 503 once it is stopping", async () => {
    let stopping = false;
    const url = await start(() => !stopping);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    stopping = true;
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
  });

  it("serves Prometheus text at /metrics and nothing else", async () => {
    const url = await start(() => true);
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("webhooks_test_total 1");
    expect((await fetch(`${url}/other`)).status).toBe(404);
  });

  it("is what the container health check's command asks: exit 0 while healthy, 1 when stopping or unreachable", async () => {
    let stopping = false;
    const port = Number(new URL(await start(() => !stopping)).port);
    const probe = (p: number) =>
      new Promise<number>((resolve) =>
        execFile(process.execPath, ["-e", livenessProbe(p)], (err) => resolve(err ? Number(err.code) : 0)),
      );
    expect(await probe(port)).toBe(0);
    stopping = true;
    expect(await probe(port)).toBe(1);
    servers.splice(0).forEach((s) => s.close());
    expect(await probe(port)).toBe(1);
  });
});
