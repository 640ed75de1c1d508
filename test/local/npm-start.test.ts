/**
 * `npm start` as a user runs it: its own emulators with data kept in a folder on disk, the console built
 * on start, stopped with Ctrl-C and started again on the same folder with other settings. The tenants,
 * events, attempt logs and dead deliveries of the first run are all there in the second, the DLQ lists
 * and requeues them, and settings the user gives win over the local stack's defaults.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { freePort } from "../support/free-port.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";

const startScript = fileURLToPath(new URL("../../services/local/start.ts", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "webhooks-npm-start-"));
const adminToken = "npm-start-test-admin-token-0123456789";
let receiver: TestReceiver;
let running: ChildProcess | undefined;
let api = "";

/** `npm start` in `dataDir` with the user's `env`; resolves once it printed that it is running. */
async function npmStart(env: Record<string, string>): Promise<void> {
  const [port, receiverPort, dynamoPort, sqsPort, metricsPort] = await Promise.all(
    [1, 2, 3, 4, 5].map(() => freePort()),
  );
  api = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", startScript], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOCAL_DATA_DIR: join(dataDir, "data"),
      CONSOLE_DIR: join(dataDir, "console"),
      ADMIN_TOKEN: adminToken,
      PORT: String(port),
      RECEIVER_PORT: String(receiverPort),
      LOCAL_DYNAMODB_PORT: String(dynamoPort),
      LOCAL_SQS_PORT: String(sqsPort),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  running = child;
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => line.includes("is running") && resolve());
  });
}

/** Ctrl-C, as a user stops it: the services drain and everything exits. */
async function stop(): Promise<void> {
  const child = running;
  running = undefined;
  if (!child || child.exitCode !== null) return;
  child.removeAllListeners("exit");
  await new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGINT");
  });
}

/** The fields these tests read, from whichever response has them. */
interface Body {
  count: number;
  data: { event_id: string }[];
  tenant_id: string;
  api_key: string;
  event_id: string;
  status: string;
  moved: number;
  deliveries: { attempt_log: { attempt: number; status_code: number }[] }[];
}

const call = async (method: string, path: string, body?: unknown, token = adminToken) => {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = res.headers.get("content-type")?.includes("json") ? await res.json() : undefined;
  return { status: res.status, body: json as Body };
};

interface Dead {
  tenantId: string;
  apiKey: string;
  eventId: string;
}
const dead: Dead[] = [];

beforeAll(async () => {
  receiver = await startReceiver();
  receiver.behave(() => ({ status: 500 }));
  await npmStart({ RETRY_SCHEDULE: "1s" });
  for (const name of ["a", "b"]) {
    const tenant = await call("POST", "/admin/tenants", { name, endpoints: [{ url: `${receiver.url}?${name}` }] });
    expect(tenant.status).toBe(201);
    for (let i = 0; i < 5; i++) {
      const res = await call("POST", "/v1/events", { type: "restart.test", i }, tenant.body.api_key);
      expect(res.status).toBe(201);
      dead.push({ tenantId: tenant.body.tenant_id, apiKey: tenant.body.api_key, eventId: res.body.event_id });
    }
  }
  await eventually(async () => (await call("GET", "/admin/dlq?limit=1")).body.count === dead.length, {
    what: "ten dead deliveries in the DLQ",
    timeoutMs: 30_000,
  });
}, 90_000);

afterAll(async () => {
  await stop();
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it("serves the console and the tenant portal built on start", async () => {
  for (const page of ["/console/", "/portal/"]) {
    const res = await fetch(`${api}${page}`);
    expect(res.status, page).toBe(200);
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(await res.text())?.[1];
    expect((await fetch(`${api}${page}${script!}`)).status, `${page}${script!}`).toBe(200);
  }
});

it("starts again on the same data with another retry schedule and visibility timeout, and the DLQ requeues what died before", async () => {
  await stop();
  await npmStart({ RETRY_SCHEDULE: "2s,2s", VISIBILITY_TIMEOUT_S: "90" });

  const peek = await call("GET", "/admin/dlq?limit=100");
  expect(peek.status).toBe(200);
  expect(peek.body.count).toBe(dead.length);
  const listed = peek.body.data.map((m) => m.event_id).sort();
  expect(listed).toEqual(dead.map((d) => d.eventId).sort());
  const before = await call("GET", `/v1/events/${dead[0]!.eventId}`, undefined, dead[0]!.apiKey);
  expect(before.body.status).toBe("DEAD");
  expect(before.body.deliveries[0]!.attempt_log.map((a) => a.status_code)).toEqual([500, 500]);

  receiver.behave(() => ({ status: 200 }));
  receiver.requests.length = 0;
  const requeue = await call("POST", "/admin/dlq/requeue", { max_messages: 100 });
  expect(requeue.status).toBe(200);
  expect(requeue.body.moved).toBe(dead.length);
  for (const d of dead) {
    await eventually(
      async () => (await call("GET", `/v1/events/${d.eventId}`, undefined, d.apiKey)).body.status === "DELIVERED",
      {
        what: `event ${d.eventId} delivered`,
      },
    );
  }
  // Once each: one POST per webhook-id, numbered on from the first run's attempts.
  const ids = receiver.requests.map((r) => String(r.headers["webhook-id"]));
  expect(ids.length).toBe(dead.length);
  expect(new Set(ids).size).toBe(dead.length);
  const after = await call("GET", `/v1/events/${dead[0]!.eventId}`, undefined, dead[0]!.apiKey);
  expect(after.body.deliveries[0]!.attempt_log.map((a) => [a.attempt, a.status_code])).toEqual([
    [1, 500],
    [2, 500],
    [3, 200],
  ]);
  expect((await call("GET", "/admin/dlq?limit=1")).body.count).toBe(0);
}, 60_000);

it("lets a setting the user gives win over the local stack's defaults", async () => {
  await stop();
  await npmStart({ ALLOW_PRIVATE_TARGETS: "false" });
  const refused = await call("POST", "/admin/tenants", { name: "c", endpoints: [{ url: receiver.url }] });
  expect(refused.status).toBe(422);
  // And the data is still there on a third start.
  expect((await call("GET", `/admin/tenants/${dead[0]!.tenantId}`)).status).toBe(200);
}, 30_000);

it("tells a user on a Node.js older than package.json's floor so in one line before it starts anything", () => {
  // The machine's own Node.js (20 on these machines and CI's), else the one running the tests.
  const node = existsSync("/usr/bin/node") ? "/usr/bin/node" : process.execPath;
  const version = execFileSync(node, ["-p", "process.versions.node"]).toString().trim();
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const { scripts, engines } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    scripts: Record<string, string>;
    engines: { node: string };
  };
  const [floorMajor = 0, floorMinor = 0] = engines.node.replace(">=", "").split(".").map(Number);
  const preflight = /^node -e "(.*)"$/.exec(scripts.prestart ?? "")?.[1];
  expect(preflight).toBeDefined();
  const run = spawnSync(node, ["-e", preflight!]);
  if (major < floorMajor || (major === floorMajor && minor < floorMinor)) {
    expect(run.status).toBe(1);
    expect(run.stderr.toString()).toBe(
      `npm start needs Node.js ${floorMajor}.${floorMinor} or newer; this is v${version}.\n`,
    );
  } else expect(run.status).toBe(0);
});
