/** The Dockerfile and the compose files read against the code (test/docker runs them, where an engine can start). */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configVariables, parseConfig, type Role } from "../../../services/config.ts";
import { apiShutdownDeadlineMs, workerShutdownDeadlineMs } from "../../../services/core/timing.ts";
import { livenessProbe } from "../../../services/worker/metrics-server.ts";

const root = join(import.meta.dirname, "../../..");
const read = (f: string) => readFileSync(join(root, f), "utf8");

interface ComposeService {
  image?: string;
  build?: string;
  pull_policy?: string;
  stop_grace_period?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
}
const compose = parse(read("docker-compose.yml"), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
/** A compose duration (`1m30s`, `45s`) in milliseconds. */
const durationMs = (d = "10s") =>
  [...d.matchAll(/(\d+)(ms|s|m|h)/g)].reduce(
    (sum, [, n, unit]) => sum + Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit!]!,
    0,
  );
/** `${VAR:-default}` as compose would expand it with VAR unset. */
const expand = (env: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1")]));

/** The roles the image's entry point dispatches, with the module each one imports. */
const roles = Object.fromEntries(
  [...read("services/main.ts").matchAll(/case "(\w+)":\s*await import\("([^"]+)"\)/g)].map((m) => [m[1]!, m[2]!]),
);

describe("the image's roles", () => {
  it("are api, worker, receiver and bootstrap, each a main.ts that exists", () => {
    expect(Object.keys(roles).sort()).toEqual(["api", "bootstrap", "receiver", "worker"]);
    for (const target of Object.values(roles)) expect(existsSync(join(root, "services", target)), target).toBe(true);
  });
});

describe("docker-compose.yml", () => {
  it("runs localstack, a one-shot bootstrap, the api, the worker and the receiver", () => {
    expect(Object.keys(services).sort()).toEqual(["api", "bootstrap", "localstack", "receiver", "worker"]);
    expect(services.localstack!.image).toMatch(/^localstack\/localstack:/);
    expect(services.localstack!.environment!.SERVICES).toBe("sqs,dynamodb");
    expect(services.bootstrap!.depends_on).toEqual({ localstack: { condition: "service_healthy" } });
    for (const s of ["api", "worker"])
      expect(services[s]!.depends_on).toEqual({ bootstrap: { condition: "service_completed_successfully" } });
    expect(services.api!.ports).toEqual(["127.0.0.1:3000:3000"]);
  });

  it("gives each role a configuration its own parser accepts, naming only variables the code reads", () => {
    const roleOf: Record<string, Role> = { api: "api", worker: "worker", bootstrap: "bootstrap", receiver: "receiver" };
    for (const [name, service] of Object.entries(services)) {
      if (name === "localstack") continue;
      const role = service.command?.[0] ?? "";
      expect(Object.keys(roles)).toContain(role);
      const env = expand(service.environment);
      const aws = ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
      const unknown = Object.keys(env).filter((k) => !configVariables.includes(k) && !aws.includes(k));
      expect(unknown, name).toEqual([]);
      expect(() => parseConfig(env, roleOf[name]!), name).not.toThrow();
      if (name !== "receiver") expect(env.AWS_ENDPOINT_URL, name).toBe("http://localstack:4566");
    }
    expect(expand(services.api!.environment).ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(32);
    expect(services.worker!.environment!.ALLOW_PRIVATE_TARGETS).toBe("true");
  });

  it("builds the image once, in bootstrap, and runs it by name for all four roles without pulling it", () => {
    const roleServices = Object.entries(services).filter(([name]) => name !== "localstack");
    expect(new Set(roleServices.map(([, s]) => s.image))).toEqual(new Set(["webhook-platform:local"]));
    expect(roleServices.filter(([, s]) => s.build).map(([name, s]) => [name, s.build])).toEqual([["bootstrap", "."]]);
    for (const [name, s] of roleServices) if (!s.build) expect(s.pull_policy, name).toBe("never");
  });

  it("lets each service finish its own drain before Docker kills it", () => {
    const worker = parseConfig(expand(services.worker!.environment), "worker");
    expect(durationMs(services.worker!.stop_grace_period)).toBeGreaterThanOrEqual(
      workerShutdownDeadlineMs(worker.DELIVERY_TIMEOUT_MS),
    );
    expect(durationMs(services.api!.stop_grace_period)).toBeGreaterThanOrEqual(apiShutdownDeadlineMs);
    expect([durationMs("1m30s"), durationMs()]).toEqual([90_000, 10_000]);
  });

  it("seals signing secrets with one key file, made by bootstrap on a volume the api and the worker read it from", () => {
    const key = expand(services.bootstrap!.environment).SECRETS_KEY_FILE!;
    expect(key).toMatch(/^\/var\/lib\/webhooks\//);
    for (const name of ["bootstrap", "api", "worker"]) {
      expect(expand(services[name]!.environment).SECRETS_KEY_FILE, name).toBe(key);
      expect(services[name]!.volumes, name).toEqual(["secrets-key:/var/lib/webhooks"]);
    }
    expect(Object.keys(compose.volumes ?? {})).toEqual(["secrets-key"]);
    // The image owns the mount point, so the unprivileged user can write the key into a fresh volume.
    expect(read("Dockerfile")).toContain("RUN mkdir -p /var/lib/webhooks && chown node:node /var/lib/webhooks");
  });

  it("restarts every long-running service after a crash, but not the one-shot bootstrap", () => {
    for (const name of ["localstack", "api", "worker", "receiver"])
      expect((services[name] as { restart?: string }).restart, name).toBe("unless-stopped");
    expect((services.bootstrap as { restart?: string }).restart).toBeUndefined();
  });

  it("gives the worker the code's default retry schedule unless RETRY_SCHEDULE is set", () => {
    const env = expand(services.worker!.environment);
    const { RETRY_SCHEDULE: given, ...unset } = env;
    expect(given).toBeDefined();
    expect(parseConfig(env, "worker").RETRY_SCHEDULE).toEqual(parseConfig(unset, "worker").RETRY_SCHEDULE);
  });

  it("starts LocalStack's DynamoDB eagerly (the bootstrap also retries while it warms up)", () => {
    expect(services.localstack!.environment!.EAGER_SERVICE_LOADING).toBe("1");
  });

  it("health-checks the worker as ECS does, on its own /healthz", () => {
    const port = parseConfig(expand(services.worker!.environment), "worker").METRICS_PORT;
    expect(services.worker!.healthcheck!.test).toEqual(["CMD", "node", "-e", livenessProbe(port)]);
  });

  it("seeds a demo endpoint that is the receiver, with the secret the receiver verifies", () => {
    const boot = expand(services.bootstrap!.environment);
    const recv = expand(services.receiver!.environment);
    expect(recv.RECEIVER_SECRETS).toBe(boot.DEMO_ENDPOINT_SECRET);
    const url = new URL(boot.DEMO_ENDPOINT_URL!);
    expect([url.hostname, url.port]).toEqual(["receiver", recv.RECEIVER_PORT]);
    const cfg = parseConfig(boot, "worker");
    expect([cfg.DEMO_TENANT_ID, cfg.DEMO_API_KEY, cfg.DEMO_ENDPOINT_SECRET]).not.toContain(undefined);
  });
});

describe("docker-compose.emulators.yml", () => {
  const override = parse(read("docker-compose.emulators.yml"), { merge: true }) as {
    services: Record<string, ComposeService & { entrypoint?: string[]; build?: { target?: string } }>;
  };
  const local = parseConfig({}, "local");

  it("puts the project's emulators in LocalStack's place and points the services at their ports", () => {
    expect(Object.keys(override.services).sort()).toEqual(["api", "bootstrap", "localstack", "worker"]);
    const emulators = override.services.localstack!;
    expect(emulators.build?.target).toBe("build");
    expect(emulators.entrypoint).toContain("services/local/emulators-main.ts");
    expect(emulators.environment?.LOCAL_BIND_ADDRESS).toBe("0.0.0.0");
    for (const name of ["bootstrap", "api", "worker"])
      expect(override.services[name]!.environment, name).toEqual({
        AWS_ENDPOINT_URL_DYNAMODB: `http://localstack:${local.LOCAL_DYNAMODB_PORT}`,
        AWS_ENDPOINT_URL_SQS: `http://localstack:${local.LOCAL_SQS_PORT}`,
      });
  });
});

describe("Dockerfile", () => {
  const lines = read("Dockerfile")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages = lines.flatMap((l, i) => (l.startsWith("FROM ") ? [i] : []));
  const final = lines.slice(stages.at(-1));

  it("builds in one stage and runs a slim Node 22+ image in another, both from one base that can be pinned by digest", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    // A tag until someone with registry access pins it (the Dockerfile says how); never a made-up digest.
    expect(lines[0]).toMatch(/^ARG NODE_IMAGE=node:(22|24)-slim(@sha256:[0-9a-f]{64})?$/);
    // The build stage runs on the builder's platform (its output is plain JavaScript); the runtime on the target's.
    expect(lines[stages[0]!]).toBe("FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build");
    expect(lines[stages.at(-1)!]).toBe("FROM ${NODE_IMAGE} AS runtime");
    expect(lines).toContain("RUN npm run build");
    // What `npm run build` reads must be in the build stage: the services and the console's sources.
    for (const dir of ["services", "console"]) expect(lines).toContain(`COPY ${dir} ./${dir}`);
    // The admin CLI is built on the client package (a workspace: npm ci needs its manifest in both stages).
    expect(lines).toContain("COPY clients/typescript/src ./clients/typescript/src");
    const manifest = "COPY clients/typescript/package.json ./clients/typescript/";
    expect(lines.filter((l) => l === manifest)).toHaveLength(stages.length);
  });

  it("runs as a non-root user, in production mode, with production dependencies only", () => {
    expect(final).toContain("USER node");
    expect(final.filter((l) => l.startsWith("USER ")).at(-1)).not.toMatch(/root|\b0\b/);
    expect(final).toContain("ENV NODE_ENV=production");
    // The heap cap depends on the container's memory: set where the image runs (the CDK stack), never at build time.
    expect(lines.filter((l) => l.includes("NODE_OPTIONS"))).toEqual([]);
    expect(final.some((l) => l.startsWith("RUN npm ci --omit=dev"))).toBe(true);
    expect(final).toContain('ENTRYPOINT ["node", "--enable-source-maps", "dist/services/main.js"]');
  });

  it("keeps node_modules, build output, local data and tests out of the context", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const entry of ["node_modules", "dist", "cdk.out", ".data", "test", "bench"]) expect(ignored).toContain(entry);
  });
});

describe("production dependencies", () => {
  it("cover every package the built services import (the image has no devDependencies)", () => {
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    const files = readdirSync(join(root, "services"), { recursive: true, encoding: "utf8" }).filter(
      (f) => f.endsWith(".ts") && !f.startsWith("local/"),
    );
    const missing = new Set<string>();
    for (const f of files) {
      for (const [, spec] of read(`services/${f}`).matchAll(/^(?:import|export)\b[^;]*?from "([^".][^"]*)"/gm)) {
        if (spec!.startsWith("node:")) continue;
        const name = spec!.startsWith("@") ? spec!.split("/").slice(0, 2).join("/") : spec!.split("/")[0]!;
        if (!(name in pkg.dependencies)) missing.add(`${f}: ${name}`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
