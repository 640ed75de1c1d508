/**
 * `npm run test:compose`: the README's "Run with Docker" section run line by line, exactly as written, with
 * docker-compose.emulators.yml in place of LocalStack (whose image no registry here serves). The engine runs in a
 * network namespace of its own, so the fixed ports compose publishes (127.0.0.1:3000) and the README's curl lines
 * meet there and nowhere else on the machine. Each step's outcome is checked; a step whose outcome comes with time
 * is run again until it shows (as a reader would), within a bound.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { startEngine, type Engine } from "../support/docker/engine.ts";
import { buildImages, imageTag, repoRoot } from "../support/docker/project-image.ts";

/** The shell lines of the README's "Run with Docker" code blocks, in order. */
function readmeSteps(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = /^## Run with Docker\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? "";
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((b) => b[1]!.split("\n").filter((l) => l.trim()));
}

const key = "Authorization: Bearer whk_demo_localdockerdemokey0000";
const admin = "Authorization: Bearer local-docker-admin-token-change-me";
const verified = /webhook verified/g;

interface Step {
  readonly line: string;
  /** What the line's output must show; the line is run again until it does (within `waitMs`). */
  readonly shows?: (out: string) => boolean;
  readonly waitMs?: number;
}

/** Each README line with what it must show. The test fails when the README's lines and these differ. */
const steps: Step[] = [
  { line: "docker compose up --build -d         # add --scale worker=3 for more workers" },
  {
    line: "docker compose ps                    # until the api and the worker are (healthy)",
    shows: (out) =>
      ["api", "worker"].every((s) => new RegExp(`_${s}_1 .*\\(healthy\\)|-${s}-1 .*\\(healthy\\)`).test(out)),
    waitMs: 180_000,
  },
  {
    line: "docker compose logs bootstrap        # ends with a ready curl line",
    shows: (out) =>
      out.includes("demo tenant ten_0000000000000000000000DEMO created") && out.includes("curl -sS -X POST"),
  },
  {
    line: `curl -sS -X POST http://127.0.0.1:3000/v1/events -H '${key}' -H 'Content-Type: application/json' -d '{"type":"order.paid","data":{"order_id":"ord_123","amount":4200}}'`,
    shows: (out) => /^\{"event_id":"evt_\w+","status":"PENDING"\}$/.test(out.trim()),
  },
  {
    line: 'docker compose logs receiver         # webhook verified {"standard_webhooks":"verified","stripe_signature":"verified",…}',
    shows: (out) => /"standard_webhooks":"verified","stripe_signature":"verified".*"webhook verified"/.test(out),
    waitMs: 60_000,
  },
  { line: "docker compose stop receiver                     # the demo endpoint goes away" },
  {
    line: "RETRY_SCHEDULE=2s docker compose up -d worker    # one retry 2 s later (by default: five, over 31 minutes)",
  },
  {
    line: `curl -sS -X POST http://127.0.0.1:3000/v1/events -H '${key}' -H 'Content-Type: application/json' -d '{"type":"order.paid","data":{"order_id":"ord_124","amount":990}}'`,
    shows: (out) => out.includes('"status":"PENDING"'),
    // The recreated worker may still be starting: the API answers regardless.
  },
  {
    line: `curl -sS http://127.0.0.1:3000/admin/dlq -H '${admin}'    # {"count":1,…} once both attempts failed`,
    shows: (out) => out.startsWith('{"count":1,'),
    waitMs: 120_000,
  },
  { line: "docker compose start receiver" },
  {
    line: `curl -sS -X POST http://127.0.0.1:3000/admin/dlq/requeue -H '${admin}' -H 'Content-Type: application/json' -d '{"max_messages":10}'`,
    shows: (out) => /"moved":1\b/.test(out),
  },
  {
    line: "docker compose logs receiver         # the requeued delivery verified too",
    shows: (out) => (out.match(verified) ?? []).length === 2,
    waitMs: 60_000,
  },
  { line: "docker compose up -d worker          # back to the default schedule" },
  { line: "docker compose down" },
  { line: "docker compose up -d" },
  {
    line: "docker compose logs bootstrap        # the demo tenant created again",
    shows: (out) => out.includes("demo tenant ten_0000000000000000000000DEMO created"),
    waitMs: 180_000,
  },
  { line: "docker compose down -v" },
];

const project = `whp-compose-${process.pid}`;
const log = (line: string) => process.stdout.write(`[compose] ${line}\n`);
const cleanups: (() => Promise<void>)[] = [];
let engine: Engine;
let composeEnv: NodeJS.ProcessEnv;

describe("the README's Run with Docker section", () => {
  beforeAll(async () => {
    // Built on the host's network (the build's npm ci needs the registry), then run in a namespace of its own:
    // compose's build then finds every layer cached.
    const builder = await startEngine({ netns: false });
    const built = await buildImages(builder, { emulators: true }, log).finally(() => builder.stop());
    engine = await startEngine({ netns: true });
    cleanups.push(() => engine.stop());
    composeEnv = {
      COMPOSE_FILE: "docker-compose.yml:docker-compose.emulators.yml",
      COMPOSE_PROJECT_NAME: project,
      NODE_IMAGE: built.base,
    };
    const version = await engine.sh("docker compose version", composeEnv);
    log(`compose: ${version.out.trim()}`);
    cleanups.push(async () => {
      await engine.sh(`cd '${repoRoot}' && docker compose down -v --remove-orphans`, composeEnv);
    });
  }, 1_800_000);

  afterAll(async () => {
    for (const undo of cleanups.reverse()) await undo();
  }, 600_000);

  it("is what this test runs, line for line", () => {
    expect(readmeSteps()).toEqual(steps.map((s) => s.line));
  });

  it("works as written: the demo event verified, a dead delivery requeued, down and up again with the same key", async () => {
    const keyFileHash = async () => {
      const volume = `${project}_secrets-key`;
      const out = await engine.docker([
        "run",
        "--rm",
        "-v",
        `${volume}:/k`,
        "--entrypoint",
        "cat",
        imageTag,
        "/k/secrets.key",
      ]);
      return createHash("sha256").update(out).digest("hex");
    };
    let keyBefore = "";
    for (const step of steps) {
      const started = Date.now();
      if (step.line === "docker compose down") keyBefore = await keyFileHash();
      const runLine = () => engine.sh(`cd '${repoRoot}' && ${step.line}`, composeEnv);
      const result = step.shows
        ? await eventually(
            async () => {
              const r = await runLine();
              return r.code === 0 && step.shows!(r.out) ? r : undefined;
            },
            { timeoutMs: step.waitMs ?? 30_000, intervalMs: 1000, what: step.line },
          ).catch(async (err: unknown) => {
            throw new Error(
              `${err instanceof Error ? err.message : String(err)}\nlast output:\n${(await runLine()).out}`,
            );
          })
        : await runLine();
      expect(result.code, `${step.line}\n${result.out}`).toBe(0);
      log(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${step.line.slice(0, 90)}`);
      if (step.line === "docker compose up -d") expect(await keyFileHash()).toBe(keyBefore);
    }
  }, 1_500_000);
});
