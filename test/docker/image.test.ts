/**
 * `npm run test:image`: the Dockerfile built and its four roles run, against the emulators the test run started
 * (on loopback; the containers share the host's network). What users deploy, checked by running it rather than by
 * reading it (test/unit/deploy/docker.test.ts reads it).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { eventually } from "../support/eventually.ts";
import { freePort } from "../support/free-port.ts";
import { startReceiver, verifyWithIndependentLibraries, type TestReceiver } from "../support/receiver.ts";
import { Containers, type RoleContainer } from "../support/docker/containers.ts";
import { startEngine, type Engine } from "../support/docker/engine.ts";
import { buildImages, imageTag, repoRoot } from "../support/docker/project-image.ts";

/** What /app may weigh (measured 83 MB: production node_modules, dist/ and the console). */
// 82 MB before the event catalog's schema checkers (ajv, recheck) came in; 143 MB measured since.
const appBudgetMb = 160;

const compose = parse(readFileSync(join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, { stop_grace_period?: string }>;
};
const workerGraceS = Number(/^(\d+)s$/.exec(compose.services.worker!.stop_grace_period ?? "")?.[1]);

const demo = {
  DEMO_TENANT_ID: "ten_0000000000000000000000IMGT",
  DEMO_API_KEY: "whk_imgtest_imagetestkey00000000",
  DEMO_ENDPOINT_SECRET: "whsec_jtzNFaT2nh6D7ilq5UGKt54yZraTMjyljUaW2wdeO3A=",
};
const adminToken = "image-test-admin-token-0123456789";

const cleanups: (() => Promise<void>)[] = [];
let engine: Engine;
let containers: Containers;
let env: Record<string, string>;
let volumes: string[];
let apiUrl: string;
let metricsPort: number;
let receiverPort: number;
let slow: TestReceiver;
const log = (line: string) => process.stdout.write(`[image] ${line}\n`);

const send = (type: string) =>
  fetch(`${apiUrl}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${demo.DEMO_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ type, data: { n: 1 } }),
  }).then(async (r) => {
    expect(r.status).toBe(201);
    return ((await r.json()) as { event_id: string }).event_id;
  });
const eventStatus = (id: string) =>
  fetch(`${apiUrl}/v1/events/${id}`, { headers: { authorization: `Bearer ${demo.DEMO_API_KEY}` } })
    .then((r) => r.json() as Promise<{ status: string }>)
    .then((e) => e.status);

describe("the image", () => {
  beforeAll(async () => {
    engine = await startEngine({ netns: false });
    cleanups.push(() => engine.stop());
    containers = new Containers(engine);
    cleanups.push(() => containers.removeAll());
    await buildImages(engine, { emulators: false }, log);
    const size = Number((await engine.docker(["image", "inspect", "-f", "{{.Size}}", imageTag])).trim());
    log(`${imageTag}: ${(size / 1e6).toFixed(0)} MB`);
    const prefix = `img${Date.now().toString(36)}`;
    [metricsPort, receiverPort] = [await freePort(), await freePort()];
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    volumes = [`${await containers.volume("keys")}:/var/lib/webhooks`];
    env = {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_DYNAMODB: inject("dynamoEndpoint"),
      AWS_ENDPOINT_URL_SQS: inject("sqsEndpoint"),
      TABLE_PREFIX: prefix,
      DELIVERY_QUEUE: `${prefix}-deliveries`,
      DEAD_LETTER_QUEUE: `${prefix}-dlq`,
      SECRETS_KEY_FILE: "/var/lib/webhooks/secrets.key",
      ALLOW_PRIVATE_TARGETS: "true",
      SQS_WAIT_TIME_S: "1",
      PORT: String(apiPort),
      METRICS_PORT: String(metricsPort),
      ADMIN_TOKEN: adminToken,
    };
    slow = await startReceiver();
    cleanups.push(() => slow.close());
  }, 1_800_000);

  afterAll(async () => {
    // Whatever beforeAll got to start, newest first, even when it failed half-way.
    for (const undo of cleanups.reverse()) await undo();
  }, 180_000);

  it("holds the compiled entry point, the console and production dependencies only; /app within its budget", async () => {
    const script = `
      const fs = require("node:fs");
      const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
      const dev = Object.entries(lock.packages).filter(([p, m]) => p && m.dev && fs.existsSync(p)).map(([p]) => p);
      const files = ["dist/services/main.js", "dist/console/index.html", "dist/console/portal.html"];
      console.log(JSON.stringify({ dev, missing: files.filter((f) => !fs.existsSync(f)), uid: process.getuid() }));`;
    const out = JSON.parse(await engine.docker(["run", "--rm", "--entrypoint", "node", imageTag, "-e", script])) as {
      dev: string[];
      missing: string[];
      uid: number;
    };
    expect(out).toEqual({ dev: [], missing: [], uid: 1000 });
    const kb = Number(
      (await engine.docker(["run", "--rm", "--entrypoint", "du", imageTag, "-sk", "/app"])).split("\t")[0],
    );
    log(`/app: ${(kb / 1024).toFixed(0)} MB (budget ${appBudgetMb} MB)`);
    expect(kb / 1024).toBeLessThanOrEqual(appBudgetMb);
  });

  let api: RoleContainer;
  let worker: RoleContainer;
  let receiver: RoleContainer;

  it("runs each role: bootstrap provisions and exits 0, the api, the worker and the receiver answer", async () => {
    receiver = await containers.start("receiver", "receiver", {
      RECEIVER_PORT: String(receiverPort),
      RECEIVER_SECRETS: demo.DEMO_ENDPOINT_SECRET,
    });
    const boot = await containers.once(
      "bootstrap",
      "bootstrap",
      { ...env, ...demo, DEMO_ENDPOINT_URL: `http://127.0.0.1:${receiverPort}/webhooks` },
      { volumes },
    );
    expect(boot, boot.out).toMatchObject({ code: 0 });
    expect(boot.out).toContain(`demo tenant ${demo.DEMO_TENANT_ID} created`);
    api = await containers.start("api", "api", env, { volumes });
    worker = await containers.start("worker", "worker", env, { volumes });
    const ok = (url: string) =>
      fetch(url).then(
        (r) => r.ok,
        () => false,
      );
    await eventually(() => ok(`${apiUrl}/healthz`), { timeoutMs: 60_000, what: "the api's /healthz" });
    await eventually(() => ok(`${apiUrl}/readyz`), { timeoutMs: 60_000, what: "the api's /readyz" });
    await eventually(() => ok(`http://127.0.0.1:${metricsPort}/healthz`), {
      timeoutMs: 60_000,
      what: "worker /healthz",
    });
    // The receiver answers (405 to a GET: it takes only POSTs).
    expect((await fetch(`http://127.0.0.1:${receiverPort}/`)).status).toBe(405);
  }, 240_000);

  it("runs as uid 1000, with node as PID 1 (so SIGTERM reaches the service itself)", async () => {
    for (const c of [api, worker, receiver]) {
      const status = await engine.docker(["exec", c.name, "cat", "/proc/1/status"]);
      expect(/^Name:\s+(\S+)/m.exec(status)?.[1], c.name).toBe("node");
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1], c.name).toBe("1000");
    }
  });

  it("delivers an event that the receiver container verifies with both signatures", async () => {
    const id = await send("order.paid");
    await eventually(
      async () => (await receiver.logs()).includes('"standard_webhooks":"verified","stripe_signature":"verified"'),
      {
        timeoutMs: 60_000,
        what: "the receiver's 'webhook verified'",
      },
    );
    await eventually(async () => (await eventStatus(id)) === "DELIVERED", { timeoutMs: 30_000, what: "DELIVERED" });
  }, 120_000);

  it("drains a worker with deliveries in flight inside compose's stop_grace_period on SIGTERM, and loses nothing", async () => {
    expect(workerGraceS).toBeGreaterThan(0);
    // A second endpoint that answers slowly, so deliveries are in flight when the worker is stopped.
    slow.behave(() => ({ status: 200, delayMs: 3_000 }));
    const created = await fetch(`${apiUrl}/v1/endpoints`, {
      method: "POST",
      headers: { authorization: `Bearer ${demo.DEMO_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ url: slow.url }),
    });
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => send(`drain.${n}`)));
    await eventually(() => slow.open() > 0, { timeoutMs: 60_000, what: "a delivery in flight to the slow endpoint" });
    const stopped = await worker.stop(workerGraceS);
    log(`worker stopped in ${stopped.ms} ms with deliveries in flight (grace ${workerGraceS} s)`);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.ms).toBeLessThan(workerGraceS * 1000);
    expect(await worker.logs()).toContain('"msg":"stopped"');
    // What the stopped worker had not finished, a new one finishes: every event ends delivered to both endpoints.
    slow.behave(() => ({ status: 200 }));
    await containers.start("worker2", "worker", env, { volumes });
    for (const id of ids)
      await eventually(async () => (await eventStatus(id)) === "DELIVERED", {
        timeoutMs: 120_000,
        what: `${id} delivered`,
      });
    for (const req of slow.requests) verifyWithIndependentLibraries(req, secret);
    const delivered = new Set(slow.requests.map((r) => String(r.headers["webhook-id"])));
    expect(delivered.size).toBe(ids.length);
  }, 300_000);
});
