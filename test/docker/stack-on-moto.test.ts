/**
 * `npm run test:cfn`: infra and code agree. The CDK app's synthesized template is deployed to moto_server's
 * CloudFormation (what moto can create of it), and the image's api and worker run against what that stack created,
 * configured as its ECS task definitions configure them: the environment is read back from the task definitions
 * moto's CloudFormation made, so table and queue names, the KMS key and every other value are the template's own.
 * An event delivered end to end, and the tables' and queues' settings compared with the code's, prove the keys,
 * indexes, TTL attribute, queue names and redrive policy are what the code expects.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  type StackResource,
} from "@aws-sdk/client-cloudformation";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { DescribeTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../services/config.ts";
import { maxAttempts } from "../../services/core/retry-policy.ts";
import { redriveMaxReceiveCount } from "../../services/core/timing.ts";
import { tableDefinitions } from "../../services/aws/tables.ts";
import { openBackends, type Backends } from "../../services/runtime.ts";
import { localCredentials } from "../../services/local/local-stack.ts";
import { eventually } from "../support/eventually.ts";
import { startMoto } from "../support/external-emulators.ts";
import { freePort } from "../support/free-port.ts";
import { startReceiver, verifyWithIndependentLibraries, type TestReceiver } from "../support/receiver.ts";
import { Containers } from "../support/docker/containers.ts";
import { startEngine, type Engine } from "../support/docker/engine.ts";
import { buildImages, repoRoot } from "../support/docker/project-image.ts";

const run = promisify(execFile);

/** Resource types left out of what is sent to moto, each for the reason moto gave (moto 5.2). */
const leftOut: Record<string, string> = {
  "AWS::CDK::Metadata": "not a resource",
  "AWS::EC2::EIP": "moto rejects the template: Fn::GetAtt PublicIp is not supported",
  "AWS::IAM::Policy": "moto rejects CDK's grant policies (MalformedPolicyDocument: statement must contain resources)",
  "AWS::CertificateManager::Certificate": "moto's CloudFormation fails on it (KeyError 'CertificateArn')",
  "AWS::Route53::RecordSet": "its hosted zone is outside the stack (NoSuchHostedZone)",
};

type Template = { Resources: Record<string, { Type: string; Properties?: unknown; DependsOn?: string | string[] }> };

/** The logical ids a resource refers to (Ref, Fn::GetAtt, Fn::Sub's ${…}). */
function references(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) references(v, into);
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      if (k === "Ref" && typeof v === "string") into.add(v);
      else if (k === "Fn::GetAtt") into.add(Array.isArray(v) ? String(v[0]) : String(v).split(".")[0]!);
      else if (k === "Fn::Sub") {
        const [text, vars] = Array.isArray(v) ? [String(v[0]), v[1]] : [String(v), undefined];
        for (const m of text.matchAll(/\$\{([^}.!]+)/g)) into.add(m[1]!);
        references(vars, into);
      } else references(v, into);
    }
  return into;
}

/** The resources moto is given: every one not of a left-out type and not referring to one left out. */
function deployable(template: Template): { sent: Template; dropped: Map<string, string> } {
  const dropped = new Map<string, string>();
  const keep = new Set<string>();
  for (const [id, r] of Object.entries(template.Resources))
    if (leftOut[r.Type]) dropped.set(id, `${r.Type}: ${leftOut[r.Type]}`);
    else keep.add(id);
  for (let changed = true; changed;) {
    changed = false;
    for (const id of keep) {
      const r = template.Resources[id]!;
      const refs = [...references(r.Properties), ...[r.DependsOn ?? []].flat()];
      const missing = refs.filter((ref) => !ref.startsWith("AWS::") && !keep.has(ref));
      if (missing.length === 0) continue;
      keep.delete(id);
      dropped.set(id, `${r.Type}: refers to ${missing.join(", ")}, left out`);
      changed = true;
    }
  }
  // moto's CloudFormation tags a KMS key with `TagKey`/`TagValue` where the template says `Key`/`Value` (KeyError).
  const sendable = (r: Template["Resources"][string]) =>
    r.Type === "AWS::KMS::Key" ? { ...r, Properties: { ...(r.Properties as object), Tags: undefined } } : r;
  return {
    sent: { Resources: Object.fromEntries([...keep].map((id) => [id, sendable(template.Resources[id]!)])) },
    dropped,
  };
}

const log = (line: string) => process.stdout.write(`[cfn] ${line}\n`);
const cleanups: (() => Promise<void>)[] = [];
let engine: Engine;
let containers: Containers;
let template: Template;
let created: StackResource[];
let taskEnv: Record<"api" | "worker", Record<string, string>>;
let backends: Backends;
let receiver: TestReceiver;
const adminToken = "cfn-test-admin-token-0123456789abcdef";
let apiUrl: string;

describe("the CDK template's storage on moto's CloudFormation", () => {
  beforeAll(async () => {
    engine = await startEngine({ netns: false });
    cleanups.push(() => engine.stop());
    containers = new Containers(engine);
    cleanups.push(() => containers.removeAll());
    await buildImages(engine, { emulators: false }, log);
    const moto = await startMoto();
    cleanups.push(() => moto.stop());

    // `cdk synth` as a user runs it: the app's own settings, offline.
    const out = mkdtempSync(join(tmpdir(), "cdk-out-"));
    cleanups.push(async () => rmSync(out, { recursive: true, force: true }));
    await run("npx", ["cdk", "synth", "--quiet", "-o", out], {
      cwd: repoRoot,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: "true" },
      maxBuffer: 64 * 1024 * 1024,
    });
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as {
      artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
    };
    const stack = Object.values(manifest.artifacts).find((a) => a.type === "aws:cloudformation:stack")!;
    template = JSON.parse(readFileSync(join(out, stack.properties!.templateFile!), "utf8")) as Template;

    const aws = { region: "us-east-1", endpoint: moto.endpoint, credentials: localCredentials };
    const cfn = new CloudFormationClient(aws);
    const ecs = new ECSClient(aws);
    cleanups.push(async () => {
      cfn.destroy();
      ecs.destroy();
    });
    const { sent, dropped } = deployable(template);
    await cfn.send(
      new CreateStackCommand({
        StackName: "webhooks",
        TemplateBody: JSON.stringify(sent),
        Capabilities: ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
      }),
    );
    const status = await eventually(
      async () => {
        const s = (await cfn.send(new DescribeStacksCommand({ StackName: "webhooks" }))).Stacks?.[0];
        return s?.StackStatus?.endsWith("_IN_PROGRESS") ? undefined : `${s?.StackStatus} ${s?.StackStatusReason ?? ""}`;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "the stack to settle" },
    );
    expect(status.trim()).toBe("CREATE_COMPLETE");
    const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: "webhooks" }))).StackResources;
    // moto lists what it skipped as resources without a type.
    created = (resources ?? []).filter((r) => r.ResourceType && r.ResourceStatus === "CREATE_COMPLETE");
    const madeIds = new Set(created.map((r) => r.LogicalResourceId));
    const notCreated = Object.entries(template.Resources)
      .filter(([id]) => !madeIds.has(id))
      .map(([id, r]) => `${id} (${dropped.get(id) ?? `${r.Type}: skipped by moto's CloudFormation`})`);
    log(`created ${created.length} of ${Object.keys(template.Resources).length} resources; not created:`);
    for (const line of notCreated.sort()) log(`  ${line}`);

    // Each task definition's environment as moto's CloudFormation resolved it, by the role its command names.
    taskEnv = { api: {}, worker: {} };
    for (const r of created.filter((x) => x.ResourceType === "AWS::ECS::TaskDefinition")) {
      const def = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: r.PhysicalResourceId! }));
      for (const c of def.taskDefinition?.containerDefinitions ?? []) {
        const role = c.command?.[0];
        if (role !== "api" && role !== "worker") continue;
        for (const e of c.environment ?? []) taskEnv[role][e.name!] = e.value!;
        // Secrets' values live in Secrets Manager (which moto's CloudFormation skips): the names are the template's.
        for (const s of c.secrets ?? []) taskEnv[role][s.name!] = s.name === "ADMIN_TOKEN" ? adminToken : "";
      }
    }
    receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const overrides = await hostOverrides(moto.endpoint);
    // The services' own wiring, in this process too (for reading the stack back): it takes credentials from the
    // SDK's chain, as a task does from its role.
    process.env.AWS_ACCESS_KEY_ID = overrides.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = overrides.AWS_SECRET_ACCESS_KEY;
    backends = await openBackends(parseConfig({ ...taskEnv.worker, ...overrides }, "worker"));
    cleanups.push(async () => backends.clients.destroy());
    apiUrl = `http://127.0.0.1:${overrides.PORT}`;
    await containers.start("api", "api", { ...taskEnv.api, ...overrides });
    await containers.start("worker", "worker", { ...taskEnv.worker, ...overrides });
  }, 1_800_000);

  afterAll(async () => {
    for (const undo of cleanups.reverse()) await undo();
  }, 180_000);

  /**
   * The only settings not taken from the task definitions: where AWS is (moto) and with what credentials; ports of
   * the test's choosing (the containers share the host's network); a receiver on loopback, which production refuses.
   */
  async function hostOverrides(motoEndpoint: string) {
    return {
      AWS_ENDPOINT_URL: motoEndpoint,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      PORT: String(await freePort()),
      METRICS_PORT: String(await freePort()),
      ALLOW_PRIVATE_TARGETS: "true",
    };
  }

  it("creates the tables, the queues, the KMS key and both task definitions", () => {
    const count = (type: string) => created.filter((r) => r.ResourceType === type).length;
    const inTemplate = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type).length;
    for (const type of ["AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::KMS::Key", "AWS::ECS::TaskDefinition"]) {
      expect(inTemplate(type), type).toBeGreaterThan(0);
      expect(count(type), type).toBe(inTemplate(type));
    }
    for (const role of ["api", "worker"] as const) expect(Object.keys(taskEnv[role]).length, role).toBeGreaterThan(0);
  });

  it("makes each table the code uses with the code's keys, indexes and TTL attribute", async () => {
    for (const want of tableDefinitions(backends.tables)) {
      const { Table } = await backends.clients.dynamo.send(new DescribeTableCommand({ TableName: want.TableName }));
      expect(Table?.KeySchema, want.TableName).toEqual(want.KeySchema);
      const indexes = (list: { IndexName?: string; KeySchema?: unknown; Projection?: unknown }[] = []) =>
        list
          .map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection }))
          .sort((a, b) => String(a.IndexName).localeCompare(String(b.IndexName)));
      expect(indexes(Table?.GlobalSecondaryIndexes), want.TableName).toEqual(indexes(want.GlobalSecondaryIndexes));
      // moto's CloudFormation does not apply TimeToLiveSpecification (the table reads DISABLED), so the template's own
      // setting for the table of that name is read: the attribute every settled item's expiry is written to.
      const resource = created.find(
        (r) => r.ResourceType === "AWS::DynamoDB::Table" && r.PhysicalResourceId === want.TableName,
      );
      const props = template.Resources[resource!.LogicalResourceId!]!.Properties as {
        TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
      };
      expect(props.TimeToLiveSpecification, want.TableName).toEqual({ AttributeName: "ttl", Enabled: true });
    }
  });

  it("makes the queues the code names, with the redrive policy, visibility and retention it would provision", async () => {
    const config = parseConfig(taskEnv.worker, "worker");
    const attributes = async (url: string) =>
      (await backends.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] })))
        .Attributes ?? {};
    const [queue, dlq] = [await attributes(backends.queue.queueUrl), await attributes(backends.queue.dlqUrl)];
    expect(JSON.parse(queue.RedrivePolicy ?? "{}")).toEqual({
      deadLetterTargetArn: dlq.QueueArn,
      maxReceiveCount: redriveMaxReceiveCount(maxAttempts(config.RETRY_SCHEDULE)),
    });
    expect(Number(queue.VisibilityTimeout)).toBe(config.VISIBILITY_TIMEOUT_S);
    // The DLQ keeps a message longer than the queue does, so nothing expires on its way to an operator.
    expect(Number(dlq.MessageRetentionPeriod)).toBeGreaterThan(Number(queue.MessageRetentionPeriod));
  });

  it("runs the image's api and worker on that stack, configured as the task definitions: an event delivered", async () => {
    await eventually(
      () =>
        fetch(`${apiUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      {
        timeoutMs: 60_000,
        what: "the api's /readyz on the stack's tables and queues",
      },
    );
    const admin = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
    const res = await fetch(`${apiUrl}/admin/tenants`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "cfn", endpoints: [{ url: receiver.url }] }),
    });
    expect(res.status).toBe(201);
    const tenant = (await res.json()) as { api_key: string; endpoints: { secret: string }[] };
    const sent = await fetch(`${apiUrl}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "order.paid", data: { order_id: "ord_cfn" } }),
    });
    expect(sent.status).toBe(201);
    const { event_id } = (await sent.json()) as { event_id: string };
    const req = await eventually(() => receiver.requests[0], { timeoutMs: 60_000, what: "the delivery" });
    verifyWithIndependentLibraries(req, tenant.endpoints[0]!.secret);
    expect(req.body.toString()).toContain('"order_id":"ord_cfn"');
    await eventually(
      async () => {
        const e = (await (
          await fetch(`${apiUrl}/v1/events/${event_id}`, { headers: { authorization: `Bearer ${tenant.api_key}` } })
        ).json()) as { status: string };
        return e.status === "DELIVERED";
      },
      { timeoutMs: 30_000, what: "DELIVERED in the stack's events table" },
    );
    // Both queues answer through the API too (the DLQ is read by name from DEAD_LETTER_QUEUE).
    const stats = await fetch(`${apiUrl}/admin/stats`, { headers: admin });
    expect(stats.status).toBe(200);
  }, 180_000);
});
