/** CDK assertions on the synthesized stack: what `cdk deploy` would create, checked without an AWS account. */
import { type App, Duration, Stack } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as route53 from "aws-cdk-lib/aws-route53";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { newApp } from "./app.ts";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { AssetManifestArtifact } from "aws-cdk-lib/cx-api";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { WebhookPlatform, type WebhookPlatformProps } from "../../infra/lib/webhook-platform.ts";
import { parse as parseYaml } from "yaml";
import { adotImage, collectorEndpoint, collectorMemoryMiB } from "../../infra/lib/tracing-sidecar.ts";
import { firstAttemptSloS } from "../../services/core/delivery-figures.ts";
import { livenessProbe } from "../../services/worker/metrics-server.ts";
import { workBacklogExpression } from "../../infra/lib/worker-service.ts";
import { deadLetteredPercentExpression } from "../../infra/lib/alarms.ts";
import { evaluateMetricMath } from "../support/metric-math.ts";
import {
  albIdleTimeoutS,
  apiKeepAliveTimeoutMs,
  apiShutdownDeadlineMs,
  workerShutdownDeadlineMs,
} from "../../services/core/timing.ts";

/**
 * A user's stack with the platform in it, as the construct is meant to be used: the props given (or made from the
 * stack, for props that import something into it) over a zone, a domain and worker bounds.
 */
function platform(
  id: string,
  props: Partial<WebhookPlatformProps> | ((stack: Stack) => Partial<WebhookPlatformProps>) = {},
  opts: { app?: App; tags?: Record<string, string> } = {},
): Stack {
  const stack = new Stack(opts.app ?? newApp(), id, { env: { region: "us-east-1" }, tags: opts.tags });
  const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, "Zone", {
    hostedZoneId: "Z123EXAMPLE",
    zoneName: "example.org",
  });
  new WebhookPlatform(stack, "Webhooks", {
    domainName: "hooks.example.org",
    hostedZone,
    minWorkers: 2,
    maxWorkers: 7,
    ...(typeof props === "function" ? props(stack) : props),
  });
  return stack;
}
let app: App;
let stack: Stack;
let t: Template;
type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
let resources: Record<string, Resource>;

beforeAll(() => {
  app = newApp();
  stack = platform("hooks", {}, { app });
  t = Template.fromStack(stack);
  resources = t.toJSON().Resources as Record<string, Resource>;
}, 180_000);

/** The logical id of the platform's output `name` (outputs take the construct's path, as resources do). */
const outputId = (name: string) =>
  Object.keys(t.toJSON().Outputs as object).find((id) => new RegExp(`^Webhooks${name}[0-9A-F]{8}$`).test(id)) ?? name;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalId = (type: string, pattern: RegExp) => ofType(type).find(([id]) => pattern.test(id))?.[0] ?? "";

/** Every IAM statement attached to the role whose logical id matches. */
function statementsOf(rolePattern: RegExp): { Action: string | string[]; Resource: unknown }[] {
  const role = logicalId("AWS::IAM::Role", rolePattern);
  return ofType("AWS::IAM::Policy")
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(role))
    .flatMap(
      ([, p]) =>
        (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
    );
}
const actionsOn = (statements: { Action: string | string[]; Resource: unknown }[], resourceId: string) =>
  statements.filter((s) => JSON.stringify(s.Resource).includes(resourceId)).flatMap((s) => [s.Action].flat());

/** The platforms the app's Docker image assets are built for, from the asset manifest `cdk deploy` publishes. */
function imagePlatforms(of: App): (string | undefined)[] {
  return of
    .synth()
    .artifacts.filter(AssetManifestArtifact.isAssetManifestArtifact)
    .flatMap((a) =>
      Object.values(
        (
          JSON.parse(readFileSync(a.file, "utf8")) as {
            dockerImages?: Record<string, { source: { platform?: string } }>;
          }
        ).dockerImages ?? {},
      ),
    )
    .map((image) => image.source.platform);
}
const runtimePlatforms = (template: Template) =>
  Object.values(template.findResources("AWS::ECS::TaskDefinition")).map(
    (r) => (r as Resource).Properties.RuntimePlatform,
  );

describe("the image", () => {
  it("is built for the architecture the tasks run on, x86_64 by default, whatever machine builds it", () => {
    expect(imagePlatforms(app)).toEqual(["linux/amd64"]);
    expect(runtimePlatforms(t)).toEqual([
      { CpuArchitecture: "X86_64", OperatingSystemFamily: "LINUX" },
      { CpuArchitecture: "X86_64", OperatingSystemFamily: "LINUX" },
    ]);
  });

  it("and both for arm64 (Graviton) when chosen", () => {
    const armApp = newApp();
    const arm = Template.fromStack(platform("arm", { cpuArchitecture: "arm64" }, { app: armApp }));
    expect(imagePlatforms(armApp)).toEqual(["linux/arm64"]);
    expect(runtimePlatforms(arm).map((p) => (p as { CpuArchitecture: string }).CpuArchitecture)).toEqual([
      "ARM64",
      "ARM64",
    ]);
  });

  it("caps each container's V8 heap below its task's memory, leaving room for everything else Node holds", () => {
    expect(ofType("AWS::ECS::TaskDefinition")).toHaveLength(2);
    for (const [id, r] of ofType("AWS::ECS::TaskDefinition")) {
      const [container] = r.Properties.ContainerDefinitions as { Environment: { Name: string; Value: string }[] }[];
      const oldSpaceMiB = Number(
        /^--max-old-space-size=(\d+) --max-semi-space-size=8$/.exec(
          container!.Environment.find((e) => e.Name === "NODE_OPTIONS")?.Value ?? "",
        )?.[1],
      );
      const taskMiB = Number(r.Properties.Memory);
      expect(oldSpaceMiB / taskMiB, id).toBeGreaterThanOrEqual(0.6);
      expect(oldSpaceMiB / taskMiB, id).toBeLessThanOrEqual(0.75);
    }
  });
});

describe("the API", () => {
  it("listens on HTTPS with a DNS-validated certificate and redirects HTTP", () => {
    t.hasResourceProperties("AWS::CertificateManager::Certificate", {
      DomainName: "hooks.example.org",
      ValidationMethod: "DNS",
      DomainValidationOptions: [{ DomainName: "hooks.example.org", HostedZoneId: "Z123EXAMPLE" }],
    });
    t.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Protocol: "HTTPS",
      Port: 443,
      Certificates: Match.anyValue(),
    });
    t.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Protocol: "HTTP",
      Port: 80,
      DefaultActions: [
        { Type: "redirect", RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" } },
      ],
    });
    t.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      Scheme: "internet-facing",
      LoadBalancerAttributes: Match.arrayWith([{ Key: "idle_timeout.timeout_seconds", Value: "60" }]),
    });
  });

  it("closes idle connections before the API does (else the ALB may reuse one the API is closing: a 502)", () => {
    t.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: "idle_timeout.timeout_seconds", Value: String(albIdleTimeoutS) },
      ]),
    });
    // The server itself is checked in test/unit/api/http-server.test.ts.
    expect(apiKeepAliveTimeoutMs).toBeGreaterThan(albIdleTimeoutS * 1000);
  });

  it("has a Route 53 alias for the custom domain and checks target liveness (/healthz), not the backends (/readyz)", () => {
    t.hasResourceProperties("AWS::Route53::RecordSet", {
      Name: "hooks.example.org.",
      Type: "A",
      AliasTarget: Match.anyValue(),
      HostedZoneId: "Z123EXAMPLE",
    });
    t.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", {
      HealthCheckPath: "/healthz",
      Port: 80,
      Protocol: "HTTP",
    });
    expect(JSON.stringify(t.toJSON())).not.toContain("/readyz");
  });

  it("runs at least two tasks with a rollback circuit breaker, scaled on CPU and requests", () => {
    t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      MinCapacity: 2,
      MaxCapacity: 10,
      ScalableDimension: "ecs:service:DesiredCount",
    });
    t.hasResourceProperties("AWS::ECS::Service", {
      LoadBalancers: Match.anyValue(),
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
    });
    t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
      }),
    });
    t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: "ALBRequestCountPerTarget" }),
      }),
    });
  });

  it("mints portal links for its own domain, not for whatever Host a request names", () => {
    t.hasResourceProperties("AWS::ECS::TaskDefinition", {
      ContainerDefinitions: [
        Match.objectLike({
          Command: ["api"],
          Environment: Match.arrayWith([{ Name: "PUBLIC_URL", Value: Match.stringLikeRegexp("^https://") }]),
        }),
      ],
    });
  });

  it("reads the client's address behind exactly its load balancer (the API's default is no proxy)", () => {
    t.hasResourceProperties("AWS::ECS::TaskDefinition", {
      ContainerDefinitions: [
        Match.objectLike({
          Command: ["api"],
          Environment: Match.arrayWith([{ Name: "TRUST_PROXY_HOPS", Value: "1" }]),
        }),
      ],
    });
  });

  it("gets the admin token from Secrets Manager as a container secret, never as plain environment", () => {
    t.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
    });
    t.hasResourceProperties("AWS::ECS::TaskDefinition", {
      ContainerDefinitions: [
        Match.objectLike({ Command: ["api"], Secrets: [Match.objectLike({ Name: "ADMIN_TOKEN" })] }),
      ],
    });
    expect(JSON.stringify(t.toJSON())).not.toMatch(/"Name":"ADMIN_TOKEN","Value"/);
  });
});

describe("the worker", () => {
  it("has no load balancer and two minutes to drain on stop", () => {
    t.hasResourceProperties("AWS::ECS::TaskDefinition", {
      ContainerDefinitions: [Match.objectLike({ Command: ["worker"], StopTimeout: 120 })],
    });
    const services = ofType("AWS::ECS::Service").map(([, s]) => s.Properties);
    expect(services.filter((s) => !(s.LoadBalancers as unknown[] | undefined)?.length)).toHaveLength(1);
  });

  it("gives each service's drain the time it takes before ECS kills the container", () => {
    const containers = Object.fromEntries(
      ofType("AWS::ECS::TaskDefinition").map(([, r]) => {
        const [c] = r.Properties.ContainerDefinitions as { Command: string[]; StopTimeout?: number }[];
        return [c!.Command[0], c!.StopTimeout];
      }),
    );
    expect(containers.worker! * 1000).toBeGreaterThanOrEqual(workerShutdownDeadlineMs(30_000));
    // The API's drain fits in Fargate's default stop timeout, 30 s.
    expect(containers.api).toBeUndefined();
    expect(apiShutdownDeadlineMs).toBeLessThanOrEqual(30_000);
  });

  it("is health-checked by the container runtime on its own /healthz, so a hung task is replaced", () => {
    t.hasResourceProperties("AWS::ECS::TaskDefinition", {
      ContainerDefinitions: [
        Match.objectLike({
          Command: ["worker"],
          Environment: Match.arrayWith([{ Name: "METRICS_PORT", Value: "9464" }]),
          HealthCheck: {
            Command: ["CMD", "node", "-e", livenessProbe(9464)],
            Interval: 30,
            Retries: 3,
            StartPeriod: 60,
            Timeout: 5,
          },
        }),
      ],
    });
  });

  it("scales on the work that can start now (visible messages) plus the workers' own in-flight figure, never on SQS's not-visible count", () => {
    t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      MinCapacity: 2,
      MaxCapacity: 7,
      ScalableDimension: "ecs:service:DesiredCount",
    });
    const [policy] = ofType("AWS::ApplicationAutoScaling::ScalingPolicy").filter(([id]) => /BacklogPerTask/.test(id));
    const config = policy![1].Properties.TargetTrackingScalingPolicyConfiguration as {
      TargetValue: number;
      CustomizedMetricSpecification: { Metrics: unknown[] };
    };
    // 60% of a task's 500 deliveries in flight.
    expect(config.TargetValue).toBe(300);
    const metrics = config.CustomizedMetricSpecification.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: {
        Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] };
      };
    }[];
    const named = (id: string) => metrics.find((m) => m.Id === id)?.MetricStat?.Metric;
    expect(named("visible")).toMatchObject({ Namespace: "AWS/SQS", MetricName: "ApproximateNumberOfMessagesVisible" });
    expect(named("inflight")).toMatchObject({
      Namespace: "WebhookPlatform",
      MetricName: "DeliveriesInFlight",
      Dimensions: [{ Name: "Deployment", Value: "hooks" }],
    });
    expect(JSON.stringify(metrics)).not.toContain("ApproximateNumberOfMessagesNotVisible");
    expect(metrics.find((m) => m.Id === "backlogPerTask")?.Expression).toBe(workBacklogExpression);
    // The workers write that figure (EMF on stdout, which the awslogs driver ships).
    const worker = ofType("AWS::ECS::TaskDefinition").find(([id]) => /Worker/.test(id))![1];
    expect((worker.Properties.ContainerDefinitions as { Environment: unknown }[])[0]!.Environment).toEqual(
      expect.arrayContaining([{ Name: "CLOUDWATCH_EMF", Value: "true" }]),
    );
  });

  it("asks for tasks by the work there is: one endpoint down with 50,000 retries parked asks for none; a visible backlog asks for many", () => {
    // The policy's own expression, evaluated as CloudWatch would.
    const evaluate = (m: { visible: number; inflight: number | undefined; tasks: number }) =>
      evaluateMetricMath(workBacklogExpression, m)!;
    const desired = (m: Parameters<typeof evaluate>[0]) => Math.ceil((evaluate(m) * Math.max(1, m.tasks)) / 300);
    // 50,000 messages parked for their retries (not visible, and no worker holds them), one probe in flight.
    const parked = { visible: 0, inflight: 1, tasks: 2 };
    expect(evaluate(parked)).toBe(1);
    expect(desired(parked)).toBe(1);
    // Before this change the same queue gave (0 + 50,000) / 2 = 25,000 per task against 1,200: 42 tasks.
    // 30,000 visible messages with two tasks busy at 450 in flight each: (30,000 + 900) / 300 = 103 wanted (maxWorkers caps it).
    const busy = { visible: 30_000, inflight: 450, tasks: 2 };
    expect(evaluate(busy)).toBe(15_450);
    expect(desired(busy)).toBe(103);
    // Steady and idle: tasks half busy, nothing waiting; and no task reporting yet.
    expect(evaluate({ visible: 0, inflight: 250, tasks: 3 })).toBe(250);
    expect(evaluate({ visible: 10, inflight: undefined, tasks: 0 })).toBe(10);
  });

  it("has data when a metric has none: no RunningTaskCount (no task yet, Container Insights late) counts as one task, not INSUFFICIENT_DATA", () => {
    // Missing data is `undefined` to the evaluator, as CloudWatch leaves a datapoint out: the expression must still give one.
    const evaluate = (m: { visible?: number; inflight?: number; tasks?: number }) =>
      evaluateMetricMath(workBacklogExpression, { visible: m.visible, inflight: m.inflight, tasks: m.tasks });
    expect(evaluate({ visible: 900, inflight: undefined, tasks: undefined })).toBe(900);
    expect(evaluate({ visible: 900, inflight: 120, tasks: undefined })).toBe(1020);
    expect(evaluate({ visible: undefined, inflight: 120, tasks: 2 })).toBe(120);
    expect(evaluate({})).toBe(0);
  });

  it("keeps two workers by default, and scales on CPU beside the work per task (fast receivers run a task out of CPU first)", () => {
    const defaults = Template.fromStack(platform("defaults", { minWorkers: undefined, maxWorkers: undefined }));
    const targets = Object.entries(defaults.findResources("AWS::ApplicationAutoScaling::ScalableTarget"));
    const [, worker] = targets.find(([id]) => /Worker/.test(id))!;
    expect((worker as Resource).Properties).toMatchObject({ MinCapacity: 2, MaxCapacity: 10 });
    const workerTarget = logicalId("AWS::ApplicationAutoScaling::ScalableTarget", /Worker/);
    const policies = ofType("AWS::ApplicationAutoScaling::ScalingPolicy").filter(([, r]) =>
      JSON.stringify(r.Properties.ScalingTargetId).includes(workerTarget),
    );
    expect(policies).toHaveLength(2);
    expect(policies.map(([, r]) => r.Properties.TargetTrackingScalingPolicyConfiguration)).toContainEqual(
      expect.objectContaining({
        PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
        TargetValue: 60,
      }),
    );
  });

  it("scales through ECS's service-linked role, like the API, not a role of its own without permissions", () => {
    const targets = ofType("AWS::ApplicationAutoScaling::ScalableTarget").map(([, r]) =>
      JSON.stringify(r.Properties.RoleARN),
    );
    expect(targets).toHaveLength(2);
    for (const role of targets)
      expect(role).toContain(
        "role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
      );
    expect(JSON.stringify(ofType("AWS::IAM::Role"))).not.toContain("application-autoscaling.amazonaws.com");
  });

  it("runs in a cluster with Container Insights, in a two-AZ VPC", () => {
    t.hasResourceProperties("AWS::ECS::Cluster", {
      ClusterSettings: [{ Name: "containerInsights", Value: "enabled" }],
    });
    expect(ofType("AWS::EC2::Subnet")).toHaveLength(4);
  });
});

describe("the network", () => {
  it("reaches DynamoDB and S3 (ECR's image layers) through free gateway endpoints, not the NAT gateway", () => {
    const endpoints = ofType("AWS::EC2::VPCEndpoint")
      .map(([, r]) => r.Properties)
      .filter((e) => e.VpcEndpointType === "Gateway");
    expect(endpoints).toHaveLength(2);
    expect(endpoints.map((e) => JSON.stringify(e.ServiceName).match(/\.(\w+)"\]\]/)?.[1]).sort()).toEqual([
      "dynamodb",
      "s3",
    ]);
    const privateRouteTables = ofType("AWS::EC2::RouteTable")
      .filter(([id]) => /Private/.test(id))
      .map(([id]) => ({ Ref: id }));
    for (const e of endpoints) expect(e.RouteTableIds).toEqual(expect.arrayContaining(privateRouteTables));
  });

  it("sends webhooks from two Elastic IPs, a NAT gateway's in each AZ, kept for the deployment's life and all in EgressIps", () => {
    const eips = ofType("AWS::EC2::EIP");
    expect(eips.map(([id]) => id)).toEqual([
      expect.stringMatching(/^WebhooksEgressIp[0-9A-F]{8}$/),
      expect.stringMatching(/^WebhooksEgressIp2/),
    ]);
    const nats = ofType("AWS::EC2::NatGateway").map(([, r]) => r.Properties);
    expect(nats.map((n) => n.AllocationId)).toEqual(eips.map(([id]) => ({ "Fn::GetAtt": [id, "AllocationId"] })));
    expect(new Set(nats.map((n) => JSON.stringify(n.SubnetId))).size).toBe(2);
    for (const [id, eip] of eips)
      expect([eip.DeletionPolicy, eip.UpdateReplacePolicy], id).toEqual(["RetainExceptOnCreate", "Retain"]);
    // Each private subnet leaves through the NAT gateway of its own AZ.
    const natRoutes = ofType("AWS::EC2::Route")
      .map(([, r]) => r.Properties)
      .filter((r) => r.NatGatewayId);
    expect(new Set(natRoutes.map((r) => JSON.stringify(r.NatGatewayId))).size).toBe(2);
    t.hasOutput(outputId("EgressIps"), {
      Value: { "Fn::Join": [",", eips.map(([id]) => ({ "Fn::GetAtt": [id, "PublicIp"] }))] },
    });
  });

  it("reaches SQS through an interface endpoint in both AZs with private DNS, not through the NAT gateways", () => {
    const [[, sqs] = ["", undefined], more] = ofType("AWS::EC2::VPCEndpoint").filter(
      ([, r]) => r.Properties.VpcEndpointType === "Interface",
    );
    expect(more).toBeUndefined();
    expect(JSON.stringify(sqs!.Properties.ServiceName)).toContain(".sqs");
    expect(sqs!.Properties.PrivateDnsEnabled).toBe(true);
    expect(sqs!.Properties.SubnetIds).toHaveLength(2);
  });
});

describe("logs, access and cost", () => {
  type Container = { Name: string; LogConfiguration: { LogDriver: string; Options: Record<string, unknown> } };
  const containersOf = (template: Template) =>
    Object.values(template.findResources("AWS::ECS::TaskDefinition")).flatMap(
      (r) => (r as Resource).Properties.ContainerDefinitions as Container[],
    );

  it("ships every container's stdout (the EMF scaling metric among it) without ever blocking the process: non-blocking, 25 MiB buffer", () => {
    const traced = Template.fromStack(platform("logs", { tracing: true }));
    const containers = containersOf(traced);
    expect(containers).toHaveLength(4);
    for (const c of containers)
      expect(c.LogConfiguration, c.Name).toMatchObject({
        LogDriver: "awslogs",
        Options: { mode: "non-blocking", "max-buffer-size": `${25 * 1024 * 1024}b` },
      });
  });

  it("puts a new API task in service after two good health checks", () => {
    t.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", { HealthyThresholdCount: 2 });
  });

  it("keeps ECS Exec off unless asked (ecsExec)", () => {
    for (const [, s] of ofType("AWS::ECS::Service")) expect(s.Properties.EnableExecuteCommand).toBeFalsy();
    const exec = Template.fromStack(platform("exec", { ecsExec: true }));
    const services = Object.values(exec.findResources("AWS::ECS::Service")) as Resource[];
    expect(services.map((s) => s.Properties.EnableExecuteCommand)).toEqual([true, true]);
  });

  it("tags everything that takes tags with the deployment, for cost allocation, beside the user's own tags", () => {
    const stackOf = platform("tagged", {}, { tags: { "cost-center": "payments" } });
    const tagged = Template.fromStack(stackOf);
    for (const type of [
      "AWS::DynamoDB::Table",
      "AWS::ECS::Service",
      "AWS::EC2::NatGateway",
      "AWS::SQS::Queue",
      "AWS::KMS::Key",
    ]) {
      for (const [id, r] of Object.entries(tagged.findResources(type)) as [string, Resource][])
        expect(r.Properties.Tags, id).toContainEqual({ Key: "webhook-platform:deployment", Value: "tagged" });
    }
    // The user's tags are the stack's: CloudFormation puts them on every resource it creates.
    expect(stackOf.tags.tagValues()).toEqual({ "cost-center": "payments" });
  });

  it("records a twentieth of new traces by default with tracing on (every trace at 100 events/s is ≈ $1.3k a month of X-Ray)", () => {
    const traced = Template.fromStack(platform("sampled", { tracing: true }));
    const envs = containersOf(traced)
      .filter((c) => c.Name !== "otel-collector")
      .map((c) => (c as unknown as { Environment: { Name: string; Value: string }[] }).Environment);
    for (const env of envs) expect(env).toContainEqual({ Name: "OTEL_TRACES_SAMPLER_ARG", Value: "0.05" });
  });
});

describe("deploys", () => {
  it("leave the desired count of both services to their scaling targets (a count in the template is re-applied on every deploy)", () => {
    const services = ofType("AWS::ECS::Service");
    expect(services).toHaveLength(2);
    for (const [id, service] of services) expect(service.Properties, id).not.toHaveProperty("DesiredCount");
  });
});

describe("storage and queues", () => {
  it("creates the three tables on demand with PITR, TTL, the GSIs, retained on stack delete", () => {
    const tables = ofType("AWS::DynamoDB::Table").map(([, r]) => r);
    expect(tables.map((r) => r.Properties.TableName).sort()).toEqual([
      "hooks-api-keys",
      "hooks-events",
      "hooks-tenants",
    ]);
    for (const table of tables) {
      expect(table.DeletionPolicy).toBe("Retain");
      expect(table.Properties).toMatchObject({
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
      });
    }
    const events = tables.find((r) => r.Properties.TableName === "hooks-events")!.Properties;
    expect(events.KeySchema).toEqual([
      { AttributeName: "tenantId", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect((events.GlobalSecondaryIndexes as { IndexName: string }[]).map((g) => g.IndexName).sort()).toEqual([
      "by-created",
      "by-due",
      "by-status",
    ]);
  });

  it("names the tables statically, retains them and protects them from deletion, so a stack created after `cdk destroy` can import them", () => {
    // What `cdk deploy --import-existing-resources` needs: a literal custom name and a Retain deletion policy.
    for (const [id, table] of ofType("AWS::DynamoDB::Table")) {
      expect(table.Properties.TableName, id).toMatch(/^hooks-[a-z-]+$/);
      expect(table.Properties.DeletionProtectionEnabled, id).toBe(true);
      expect([table.DeletionPolicy, table.UpdateReplacePolicy], id).toEqual(["Retain", "Retain"]);
    }
  });

  it("lets a failed first deploy be retried: what a rollback keeps is either adopted by name or has a generated one", () => {
    // A rollback of the create deletes everything but `Retain` resources. The retry must not meet them as "already
    // exists": the tables (protected, so a rollback could not delete them) are adopted by name by
    // `--import-existing-resources`; the rest that is kept has no fixed name, so the retry makes its own beside it.
    const names = ["TableName", "BucketName", "LogGroupName", "Name", "AliasName", "QueueName", "TopicName"];
    const kept = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === "Retain");
    expect([...new Set(kept.map(([, r]) => r.Type))].sort()).toEqual([
      "AWS::DynamoDB::Table",
      "AWS::Logs::LogGroup",
      "AWS::S3::Bucket",
    ]);
    for (const [id, r] of kept) {
      if (r.Type === "AWS::DynamoDB::Table") continue;
      expect(
        Object.keys(r.Properties).filter((k) => names.includes(k)),
        id,
      ).toEqual([]);
    }
  });

  it("can run the events table, and its indexes, on provisioned capacity scaled between bounds (eventsTableCapacity)", () => {
    const capacity = { minWriteUnits: 1000, maxWriteUnits: 4000, minReadUnits: 50, maxReadUnits: 500 };
    const provisioned = Template.fromStack(platform("prov", { eventsTableCapacity: capacity }));
    const tables = Object.values(provisioned.findResources("AWS::DynamoDB::Table")) as Resource[];
    const byName = (suffix: string) => tables.find((r) => (r.Properties.TableName as string).endsWith(suffix))!;
    expect(byName("-events").Properties).toMatchObject({
      ProvisionedThroughput: { ReadCapacityUnits: 50, WriteCapacityUnits: 1000 },
    });
    expect(byName("-events").Properties.BillingMode).not.toBe("PAY_PER_REQUEST");
    for (const gsi of byName("-events").Properties.GlobalSecondaryIndexes as { ProvisionedThroughput: unknown }[])
      expect(gsi.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 50, WriteCapacityUnits: 1000 });
    for (const other of ["-tenants", "-api-keys"]) expect(byName(other).Properties.BillingMode).toBe("PAY_PER_REQUEST");
    // The table and its three indexes, reads and writes: eight targets, each tracking 70% use.
    const targets = Object.values(provisioned.findResources("AWS::ApplicationAutoScaling::ScalableTarget")).filter(
      (r) => String((r as Resource).Properties.ServiceNamespace) === "dynamodb",
    ) as Resource[];
    expect(targets).toHaveLength(8);
    expect(
      new Set(targets.map((r) => `${String(r.Properties.MinCapacity)}-${String(r.Properties.MaxCapacity)}`)),
    ).toEqual(new Set(["1000-4000", "50-500"]));
    provisioned.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: "DynamoDBWriteCapacityUtilization" },
        TargetValue: 70,
      }),
    });
    expect(() => platform("bad", { eventsTableCapacity: { ...capacity, minWriteUnits: 5000 } })).toThrow(
      /eventsTableCapacity/,
    );
  });

  it("gives the queue a visibility timeout above the delivery timeout, SSE, and a 14-day DLQ above the attempt count", () => {
    const [queue, dlq] = [logicalId("AWS::SQS::Queue", /QueuesQueue/), logicalId("AWS::SQS::Queue", /DeadLetter/)];
    expect(resources[queue]!.Properties).toMatchObject({
      VisibilityTimeout: 60,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 345_600,
      RedrivePolicy: { maxReceiveCount: 28, deadLetterTargetArn: expect.anything() },
    });
    expect(resources[dlq]!.Properties).toMatchObject({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
  });
});

describe("least privilege", () => {
  const [queueId, dlqId] = [
    () => logicalId("AWS::SQS::Queue", /QueuesQueue/),
    () => logicalId("AWS::SQS::Queue", /DeadLetter/),
  ];
  const keysTable = () => logicalId("AWS::DynamoDB::Table", /apikeys/i);

  it("lets the API send to the queue but never receive from it", () => {
    const api = statementsOf(/ApiServiceTaskDefTaskRole/);
    expect(actionsOn(api, queueId())).toEqual(expect.arrayContaining(["sqs:SendMessage", "sqs:GetQueueAttributes"]));
    expect(actionsOn(api, queueId())).not.toContain("sqs:ReceiveMessage");
    expect(actionsOn(api, queueId())).not.toContain("sqs:DeleteMessage");
    expect(actionsOn(api, dlqId())).toEqual(
      expect.arrayContaining(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]),
    );
    expect(actionsOn(api, keysTable())).toContain("dynamodb:PutItem");
  });

  it("lets the worker consume, send to the DLQ and write events, and nothing with API keys", () => {
    const worker = statementsOf(/WorkerTaskTaskRole/);
    expect(actionsOn(worker, queueId())).toEqual(
      expect.arrayContaining(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]),
    );
    expect(actionsOn(worker, dlqId())).toContain("sqs:SendMessage");
    expect(actionsOn(worker, dlqId())).not.toContain("sqs:ReceiveMessage");
    expect(actionsOn(worker, logicalId("AWS::DynamoDB::Table", /events/i))).toContain("dynamodb:UpdateItem");
    expect(actionsOn(worker, keysTable())).toEqual([]);
    expect(JSON.stringify(worker)).not.toContain('"*"');
  });

  it("lets the worker assume customers' roles matching the pattern, with an external id, never one of this account", () => {
    const assume = statementsOf(/WorkerTaskTaskRole/).filter((s) => JSON.stringify(s.Action).includes("sts:"));
    expect(assume).toEqual([
      {
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Resource: "arn:aws:iam::*:role/webhooks-*",
        Condition: { StringLike: { "sts:ExternalId": "whx_*" } },
      },
      {
        Effect: "Deny",
        Action: "sts:AssumeRole",
        Resource: { "Fn::Join": ["", ["arn:aws:iam::", { Ref: "AWS::AccountId" }, ":role/*"]] },
      },
    ]);
    expect(JSON.stringify(statementsOf(/ApiServiceTaskDefTaskRole/))).not.toContain("sts:");
    // The API shows customers whom to trust (the worker's role) and refuses roles the worker may not assume.
    const api = ofType("AWS::ECS::TaskDefinition").find(([id]) => /ApiService/.test(id))![1];
    const env = (api.Properties.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[])[0]!
      .Environment;
    const worker = logicalId("AWS::IAM::Role", /WorkerTaskTaskRole/);
    expect(env).toEqual(
      expect.arrayContaining([
        { Name: "DESTINATION_PRINCIPAL_ARN", Value: { "Fn::GetAtt": [worker, "Arn"] } },
        { Name: "DESTINATION_ROLE_PATTERN", Value: expect.anything() },
        { Name: "PLATFORM_ACCOUNT_ID", Value: { Ref: "AWS::AccountId" } },
      ]),
    );
    // A narrower pattern is a setting.
    const narrow = Template.fromStack(
      platform("narrow", { destinationRolePattern: "arn:aws:iam::111111111111:role/hooks-*" }),
    );
    expect(JSON.stringify(narrow.findResources("AWS::IAM::Policy"))).toContain(
      '"arn:aws:iam::111111111111:role/hooks-*"',
    );
  });
});

describe("operations", () => {
  it("alarms on deliveries overdue with no worker on them and the API's 5xx rate, to one topic; worker crashes and health-check replacements are routed too", () => {
    // Not the age of the oldest message: retries parked and deliveries held by a circuit are old on purpose.
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "WebhookPlatform",
      MetricName: "OldestOverdueSeconds",
      Dimensions: [{ Name: "Deployment", Value: "hooks" }],
      Threshold: 900,
      TreatMissingData: "breaching",
    });
    const queueId = logicalId("AWS::SQS::Queue", /QueuesQueue/);
    const onQueue = ofType("AWS::CloudWatch::Alarm").filter(([, r]) => JSON.stringify(r.Properties).includes(queueId));
    expect(JSON.stringify(onQueue)).not.toContain("ApproximateAgeOfOldestMessage");
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp("target5xx") })]),
      Threshold: 1,
    });
    t.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: Match.objectLike({
        "detail-type": ["ECS Task State Change"],
        detail: Match.objectLike({ lastStatus: ["STOPPED"], stopCode: ["EssentialContainerExited"] }),
      }),
    });
    // Tasks replaced for failed health checks (ELB: "Task failed ELB health checks in …"; container: "Task failed
    // container health checks"), of both services, notify the same topic.
    const rules = Object.values(
      t.findResources("AWS::Events::Rule", {
        Properties: {
          EventPattern: {
            detail: {
              stoppedReason: [
                { prefix: "Task failed ELB health checks" },
                { prefix: "Task failed container health checks" },
              ],
            },
          },
        },
      }),
    ) as Resource[];
    expect(rules).toHaveLength(1);
    const pattern = rules[0]!.Properties.EventPattern as { detail: { group: unknown[]; lastStatus: string[] } };
    expect(pattern.detail.group).toHaveLength(2);
    expect(pattern.detail.lastStatus).toEqual(["STOPPED"]);
    expect(JSON.stringify(rules[0]!.Properties.Targets)).toContain("AlarmsTopic");
  });

  it("alarms on the share of deliveries dead-lettered, not on any message in the DLQ (one endpoint down for 31 minutes held that alarm for 14 days)", () => {
    const dlq = logicalId("AWS::SQS::Queue", /DeadLetter/);
    const onDlq = ofType("AWS::CloudWatch::Alarm").filter(([, r]) => JSON.stringify(r.Properties).includes(dlq));
    expect(onDlq.map(([, r]) => r.Properties.MetricName)).toEqual(["ApproximateAgeOfOldestMessage"]);
    const metric = (name: string) =>
      Match.objectLike({
        MetricStat: Match.objectLike({
          Metric: {
            Namespace: "WebhookPlatform",
            MetricName: name,
            Dimensions: [{ Name: "Deployment", Value: "hooks" }],
          },
          Stat: "Sum",
        }),
      });
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: deadLetteredPercentExpression }),
        metric("DeliveriesDelivered"),
        metric("DeliveriesDeadLettered"),
      ]),
      Threshold: 5,
      EvaluationPeriods: 6,
      DatapointsToAlarm: 6,
      TreatMissingData: "notBreaching",
      AlarmActions: Match.anyValue(),
    });
    const share = (delivered: number | undefined, dead: number | undefined) =>
      evaluateMetricMath(deadLetteredPercentExpression, { delivered, dead });
    // One small customer's endpoint down among healthy traffic: under the line; a fifth of the traffic dying: over it.
    expect(share(9_900, 100)).toBe(1);
    expect(share(8_000, 2_000)).toBe(20);
    // Quiet periods have a value (0), not missing data; only deaths: 100%.
    expect(share(undefined, undefined)).toBe(0);
    expect(share(undefined, 3)).toBe(100);
  });

  it("alarms when the DLQ's oldest message nears the end of its 14-day retention", () => {
    const dlq = logicalId("AWS::SQS::Queue", /DeadLetter/);
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateAgeOfOldestMessage",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlq, "QueueName"] } }],
      Statistic: "Maximum",
      Threshold: 12 * 86_400,
      ComparisonOperator: "GreaterThanThreshold",
      AlarmActions: Match.anyValue(),
    });
    expect(resources[dlq]!.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
  });

  it("reaches someone: alarm emails subscribe to the topic; or your own topic gets the alarms and the task events", () => {
    Annotations.fromStack(stack).hasWarning(
      "/hooks/Webhooks/Alarms",
      Match.stringLikeRegexp("alarms go to a topic nobody"),
    );
    const mailed = Template.fromStack(platform("mailed", { alarmEmails: ["ops@example.org", "oncall@example.org"] }));
    const topic = Object.keys(mailed.findResources("AWS::SNS::Topic"))[0]!;
    for (const email of ["ops@example.org", "oncall@example.org"])
      mailed.hasResourceProperties("AWS::SNS::Subscription", {
        Protocol: "email",
        Endpoint: email,
        TopicArn: { Ref: topic },
      });
    const arn = "arn:aws:sns:us-east-1:111122223333:pager";
    const own = Template.fromStack(platform("own", (st) => ({ alarmTopic: sns.Topic.fromTopicArn(st, "Pager", arn) })));
    own.resourceCountIs("AWS::SNS::Topic", 0);
    const alarms = Object.values(own.findResources("AWS::CloudWatch::Alarm")) as Resource[];
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([arn]);
    for (const r of Object.values(own.findResources("AWS::Events::Rule")) as Resource[])
      expect(r.Properties.Targets).toEqual([expect.objectContaining({ Arn: arn })]);
    expect(() =>
      platform("both", (st) => ({
        alarmTopic: sns.Topic.fromTopicArn(st, "Pager", arn),
        alarmEmails: ["a@example.org"],
      })),
    ).toThrow(/subscribe them to it/);
    expect(() => platform("bad", { alarmEmails: ["ops"] })).toThrow(/not an address/);
  });

  it("has a dashboard that splits the queue into visible, in flight and parked or held", () => {
    const [dashboard] = ofType("AWS::CloudWatch::Dashboard");
    const body = JSON.stringify(dashboard![1].Properties.DashboardBody);
    for (const text of [
      "Visible (can start now)",
      "Deliveries in flight (all tasks)",
      "Parked or held (waiting on purpose)",
      "notVisible - inFlight",
      "OldestOverdueSeconds",
    ])
      expect(body).toContain(text);
  });

  it("alarms when the first-attempt SLO burns its error budget fast, from the metrics the workers write as EMF", () => {
    const metric = (name: string) =>
      Match.objectLike({
        MetricStat: Match.objectLike({
          Metric: {
            Namespace: "WebhookPlatform",
            MetricName: name,
            Dimensions: [{ Name: "Deployment", Value: "hooks" }],
          },
          Stat: "Sum",
          Period: 300,
        }),
      });
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: "IF(total > 0, 100 * FILL(late, 0) / total, 0)" }),
        metric("FirstAttempts"),
        metric("FirstAttemptsLate"),
      ]),
      // 14.4 times the 1% error budget of a 99% objective, for three 5-minute periods in a row.
      Threshold: 14.4,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: "GreaterThanThreshold",
      AlarmDescription: Match.stringLikeRegexp(`within ${firstAttemptSloS} s`),
      AlarmActions: Match.anyValue(),
    });
  });

  it("keeps logs for a month and outputs the API URL, queue URLs and table names", () => {
    expect(ofType("AWS::Logs::LogGroup").map(([, r]) => r.Properties.RetentionInDays)).toEqual([30, 30]);
    for (const output of [
      "ApiUrl",
      "QueueUrl",
      "DeadLetterQueueUrl",
      "TenantsTable",
      "ApiKeysTable",
      "EventsTable",
      "AlarmTopic",
    ])
      t.hasOutput(outputId(output), Match.anyValue());
    t.hasOutput(outputId("ApiUrl"), { Value: "https://hooks.example.org" });
  });

  it("rejects conflicting settings at construction", () => {
    expect(() => platform("a", { domainName: "hooks.other.org" })).toThrow(/not inside the hosted zone example\.org/);
    expect(() => platform("z", { hostedZone: undefined })).toThrow(/a hostedZone .* or a certificate is required/);
    expect(() => platform("n", { name: "Hooks_1" })).toThrow(/name Hooks_1: lower-case/);
    expect(() => platform("b", { minWorkers: 5, maxWorkers: 2 })).toThrow(/minWorkers/);
    expect(() => platform("c", { retrySchedule: "often" })).toThrow(/retrySchedule/);
    expect(() => platform("e", { deliveryTimeout: Duration.seconds(101) })).toThrow(/stop timeout/);
    expect(() =>
      platform("d", {
        image: ecs.ContainerImage.fromRegistry("registry.example.org/webhooks:v1"),
        deliveryTimeout: Duration.seconds(15),
      }),
    ).not.toThrow();
  });
});

describe("tracing (tracing: true)", () => {
  let traced: Template;
  type Container = {
    Name: string;
    Image: unknown;
    Essential?: boolean;
    Memory?: number;
    Environment?: { Name: string; Value: string }[];
  };
  const containers = (template: Template) =>
    Object.values(template.findResources("AWS::ECS::TaskDefinition")).map(
      (r) => (r as Resource).Properties.ContainerDefinitions as Container[],
    );
  const env = (c: Container) => Object.fromEntries((c.Environment ?? []).map((e) => [e.Name, e.Value]));

  beforeAll(() => {
    traced = Template.fromStack(platform("traced", { tracing: true, traceSampleRatio: 0.25 }));
  }, 180_000);

  it("runs an ADOT collector beside the API and beside the worker, receiving OTLP on localhost and exporting to X-Ray", () => {
    const tasks = containers(traced);
    expect(tasks).toHaveLength(2);
    for (const [app, collector, more] of tasks) {
      expect(more).toBeUndefined();
      expect(collector).toMatchObject({
        Name: "otel-collector",
        Image: adotImage,
        Essential: false,
        Memory: collectorMemoryMiB,
      });
      expect(adotImage).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v\d+\.\d+\.\d+$/);
      const config = parseYaml(env(collector!).AOT_CONFIG_CONTENT!) as {
        receivers: { otlp: { protocols: { http: { endpoint: string } } } };
        exporters: { awsxray: { indexed_attributes: string[] } };
        processors: { memory_limiter: { limit_mib: number; spike_limit_mib: number } };
        service: { pipelines: { traces: { receivers: string[]; processors: string[]; exporters: string[] } } };
      };
      expect(collectorEndpoint).toBe(`http://${config.receivers.otlp.protocols.http.endpoint}`);
      expect(config.service.pipelines.traces).toMatchObject({ receivers: ["otlp"], exporters: ["awsxray"] });
      // The memory limiter first, below the container's hard limit with room for a spike.
      expect(config.service.pipelines.traces.processors[0]).toBe("memory_limiter");
      expect(config.processors.memory_limiter.limit_mib).toBeLessThan(collectorMemoryMiB);
      expect(config.exporters.awsxray.indexed_attributes).toEqual(
        expect.arrayContaining(["webhook.event_id", "webhook.tenant_id", "webhook.endpoint_id"]),
      );
      // The service in the same task sends to it.
      expect(env(app!)).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: collectorEndpoint,
        OTEL_TRACES_SAMPLER_ARG: "0.25",
      });
      // The heap cap is 70% of what the collector's hard limit leaves of the 1 GiB task (without tracing: 716 of 1,024);
      // the context is kept by AsyncContextFrame rather than async_hooks (cheaper).
      expect(env(app!).NODE_OPTIONS).toBe(
        `--max-old-space-size=${Math.floor((1024 - collectorMemoryMiB) * 0.7)} --max-semi-space-size=8 --experimental-async-context-frame`,
      );
      expect(collectorMemoryMiB).toBe(128);
    }
  });

  it("lets both task roles write to X-Ray", () => {
    const policies = Object.values(traced.findResources("AWS::IAM::Policy")).map((p) =>
      JSON.stringify((p as Resource).Properties),
    );
    for (const role of ["ApiServiceTaskDefTaskRole", "WorkerTaskTaskRole"]) {
      const statements = policies.filter((p) => p.includes(role) && p.includes("xray:PutTraceSegments"));
      expect(statements, role).toHaveLength(1);
      expect(statements[0]).toContain("xray:PutTelemetryRecords");
    }
  });

  it("adds nothing of it without the flag", () => {
    expect(containers(t).map((c) => c.length)).toEqual([1, 1]);
    expect(JSON.stringify(t.toJSON())).not.toMatch(/OTEL_|xray:|aws-otel-collector/);
  });
});

describe("signing secrets at rest", () => {
  const keyId = () => logicalId("AWS::KMS::Key", /SigningSecretsKey/);

  it("are sealed with a customer-managed KMS key that rotates and outlives the stack (not a rolled-back first deploy), named to both services", () => {
    expect(ofType("AWS::KMS::Key")).toHaveLength(1);
    expect(resources[keyId()]!.Properties).toMatchObject({ EnableKeyRotation: true });
    expect([resources[keyId()]!.DeletionPolicy, resources[keyId()]!.UpdateReplacePolicy]).toEqual([
      "RetainExceptOnCreate",
      "Retain",
    ]);
    t.hasResourceProperties("AWS::KMS::Alias", {
      AliasName: "alias/hooks/signing-secrets",
      TargetKeyId: { "Fn::GetAtt": [keyId(), "Arn"] },
    });
    t.hasOutput(outputId("SigningKeyArn"), { Value: { "Fn::GetAtt": [keyId(), "Arn"] } });
    for (const [, r] of ofType("AWS::ECS::TaskDefinition")) {
      const [container] = r.Properties.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[];
      expect(container!.Environment.find((e) => e.Name === "SECRETS_KMS_KEY_ID")?.Value).toEqual({
        "Fn::GetAtt": [keyId(), "Arn"],
      });
    }
  });

  it("can be the key a deleted stack left behind (signingKeyArn): no new key, the alias and both roles on that one", () => {
    const arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const kept = Template.fromStack(platform("kept", (st) => ({ signingKey: kms.Key.fromKeyArn(st, "Kept", arn) })));
    kept.resourceCountIs("AWS::KMS::Key", 0);
    kept.hasResourceProperties("AWS::KMS::Alias", { AliasName: "alias/kept/signing-secrets", TargetKeyId: arn });
    const policies = JSON.stringify(kept.findResources("AWS::IAM::Policy"));
    expect(policies).toContain(arn);
    for (const [, r] of Object.entries(kept.findResources("AWS::ECS::TaskDefinition"))) {
      const [c] = (r as Resource).Properties.ContainerDefinitions as {
        Environment: { Name: string; Value: unknown }[];
      }[];
      expect(c!.Environment.find((e) => e.Name === "SECRETS_KMS_KEY_ID")?.Value).toBe(arn);
    }
  });

  it("lets the API make data keys but never decrypt one, and the worker do both", () => {
    const api = actionsOn(statementsOf(/ApiServiceTaskDefTaskRole/), keyId());
    expect(api).toEqual(["kms:GenerateDataKey"]);
    expect(actionsOn(statementsOf(/WorkerTaskTaskRole/), keyId()).sort()).toEqual([
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]);
  });
});

describe("the load balancer's edge", () => {
  const rules = (template: Template) =>
    Object.values(template.findResources("AWS::ElasticLoadBalancingV2::ListenerRule")).map(
      (r) => (r as Resource).Properties,
    ) as {
      Priority: number;
      Conditions: { Field: string; PathPatternConfig?: { Values: string[] }; SourceIpConfig?: { Values: string[] } }[];
      Actions: { Type: string; FixedResponseConfig?: { StatusCode: string; ContentType: string } }[];
    }[];
  const withCidrs = (adminCidrs: string[]) => Template.fromStack(platform("open", { adminCidrs }));

  // With the wildcard: `/admin/…`, and `/metrics/` (Express serves it as /metrics), are covered too.
  const operatorPaths = ["/admin*", "/console*", "/metrics*"];

  it("closes /admin, /console and /metrics with a 403 at the load balancer by default, and says which setting opens them", () => {
    expect(rules(t)).toEqual([
      {
        ListenerArn: expect.anything(),
        Priority: 100,
        Tags: [{ Key: "webhook-platform:deployment", Value: "hooks" }],
        Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: operatorPaths } }],
        Actions: [
          {
            Type: "fixed-response",
            FixedResponseConfig: expect.objectContaining({
              StatusCode: "403",
              ContentType: "application/problem+json",
            }),
          },
        ],
      },
    ]);
    Annotations.fromStack(stack).hasInfo(
      "/hooks/Webhooks/Edge",
      Match.stringLikeRegexp("^/admin, /console and /metrics answer 403 at the load balancer: .* with adminCidrs$"),
    );
  });

  it("forwards the operator paths from the given networks only, two networks a rule (an ALB rule matches five values), before the 403", () => {
    const open = withCidrs(["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32"]);
    const byPriority = rules(open).sort((a, b) => a.Priority - b.Priority);
    expect(
      byPriority.map((r) => [
        r.Priority,
        r.Actions[0]!.Type,
        r.Conditions.find((c) => c.Field === "source-ip")?.SourceIpConfig?.Values,
      ]),
    ).toEqual([
      [10, "forward", ["203.0.113.0/24", "198.51.100.7/32"]],
      [11, "forward", ["2001:db8::/32"]],
      [100, "fixed-response", undefined],
    ]);
    for (const r of byPriority)
      expect(r.Conditions.find((c) => c.Field === "path-pattern")?.PathPatternConfig?.Values).toEqual(operatorPaths);
    expect(() => withCidrs(["10.0.0.0/33"])).toThrow(/adminCidrs: not a CIDR: 10.0.0.0\/33/);
    expect(() => withCidrs(["example.com"])).toThrow(/not a CIDR/);
  });

  it("drops invalid header fields and keeps access logs 90 days in a private, SSE-S3, TLS-only bucket", () => {
    t.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: "routing.http.drop_invalid_header_fields.enabled", Value: "true" },
        { Key: "access_logs.s3.enabled", Value: "true" },
        { Key: "access_logs.s3.prefix", Value: "alb" },
      ]),
    });
    const [bucketId, bucket] = ofType("AWS::S3::Bucket")[0]!;
    expect(ofType("AWS::S3::Bucket")).toHaveLength(1);
    expect(bucket.DeletionPolicy).toBe("Retain");
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90, Status: "Enabled" })] },
    });
    t.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: bucketId },
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      }),
    });
  });

  it("puts a WAF web ACL with a per-address rate limit in front of the load balancer when asked (-c waf=true)", () => {
    expect(ofType("AWS::WAFv2::WebACL")).toEqual([]);
    const waf = Template.fromStack(platform("waf", { waf: true, wafRateLimit: 5000 }));
    waf.hasResourceProperties("AWS::WAFv2::WebACL", {
      Scope: "REGIONAL",
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 5000, AggregateKeyType: "IP" } },
        }),
      ],
    });
    const lb = Object.keys(waf.findResources("AWS::ElasticLoadBalancingV2::LoadBalancer"))[0]!;
    waf.hasResourceProperties("AWS::WAFv2::WebACLAssociation", { ResourceArn: { Ref: lb } });
    expect(() => platform("nowaf", { wafRateLimit: 5000 })).toThrow(/wafRateLimit needs waf/);
  });
});

describe("the worker's DynamoDB actions", () => {
  it("are only those it calls: no Scan on events (PutItem for the operational events it emits, DeleteItem for an emptied ordering lane), nothing but a read and a guarded write on tenants", () => {
    const worker = statementsOf(/WorkerTaskTaskRole/);
    const events = logicalId("AWS::DynamoDB::Table", /events/i);
    const tenants = logicalId("AWS::DynamoDB::Table", /tenants/i);
    const dynamo = (table: string) =>
      actionsOn(worker, table)
        .filter((a) => a.startsWith("dynamodb:"))
        .sort();
    expect(dynamo(events)).toEqual([
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]);
    expect(dynamo(tenants)).toEqual(["dynamodb:GetItem", "dynamodb:PutItem"]);
    // The sweeper's Query goes to the by-due index.
    const onEvents = worker.find((s) => JSON.stringify(s.Resource).includes(events))!;
    expect(JSON.stringify(onEvents.Resource)).toContain("/index/*");
  });
});

describe("the construct in a user's own stack", () => {
  it("takes the user's certificate without a zone: no certificate or DNS record of its own, the name left to them", () => {
    const arn = "arn:aws:acm:us-east-1:210987654321:certificate/abc";
    const own = Template.fromStack(
      platform("cert", (st) => ({
        hostedZone: undefined,
        certificate: acm.Certificate.fromCertificateArn(st, "Cert", arn),
      })),
    );
    own.resourceCountIs("AWS::CertificateManager::Certificate", 0);
    own.resourceCountIs("AWS::Route53::RecordSet", 0);
    own.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Protocol: "HTTPS",
      Certificates: [{ CertificateArn: arn }],
    });
  });

  it("sizes each service's tasks, and caps each heap by its own task's memory", () => {
    const sized = Template.fromStack(
      platform("sized", {
        apiTaskSize: { cpu: 1024, memoryLimitMiB: 2048 },
        workerTaskSize: { cpu: 2048, memoryLimitMiB: 4096 },
        minApiTasks: 3,
        maxApiTasks: 6,
      }),
    );
    const tasks = Object.values(sized.findResources("AWS::ECS::TaskDefinition")) as Resource[];
    const byCommand = Object.fromEntries(
      tasks.map((r) => {
        const [c] = r.Properties.ContainerDefinitions as {
          Command: string[];
          Environment: { Name: string; Value: string }[];
        }[];
        return [
          c!.Command[0],
          [r.Properties.Cpu, r.Properties.Memory, c!.Environment.find((e) => e.Name === "NODE_OPTIONS")?.Value],
        ];
      }),
    );
    expect(byCommand).toEqual({
      api: ["1024", "2048", `--max-old-space-size=${Math.floor(2048 * 0.7)} --max-semi-space-size=8`],
      worker: ["2048", "4096", `--max-old-space-size=${Math.floor(4096 * 0.7)} --max-semi-space-size=8`],
    });
    sized.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", { MinCapacity: 3, MaxCapacity: 6 });
  });

  it("names its tables, metrics and key alias after `name`, so two platforms live side by side in one stack", () => {
    const both = new Stack(newApp(), "shared", { env: { region: "us-east-1" } });
    const certificate = acm.Certificate.fromCertificateArn(
      both,
      "Cert",
      "arn:aws:acm:us-east-1:210987654321:certificate/c",
    );
    const first = new WebhookPlatform(both, "Orders", {
      domainName: "orders.example.org",
      certificate,
      name: "orders",
    });
    new WebhookPlatform(both, "Billing", { domainName: "billing.example.org", certificate, name: "billing" });
    const template = Template.fromStack(both);
    const tables = Object.values(template.findResources("AWS::DynamoDB::Table")).map(
      (r) => (r as Resource).Properties.TableName,
    );
    expect(tables.sort()).toEqual([
      "billing-api-keys",
      "billing-events",
      "billing-tenants",
      "orders-api-keys",
      "orders-events",
      "orders-tenants",
    ]);
    template.hasResourceProperties("AWS::KMS::Alias", { AliasName: "alias/orders/signing-secrets" });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "OldestOverdueSeconds",
      Dimensions: [{ Name: "Deployment", Value: "billing" }],
    });
    expect(first.url).toBe("https://orders.example.org");
    expect(first.egressIps).toHaveLength(2);
  });

  it("hands the user what it made, to grant and wire as with any construct", () => {
    const st = new Stack(newApp(), "wired", { env: { region: "us-east-1" } });
    const certificate = acm.Certificate.fromCertificateArn(
      st,
      "Cert",
      "arn:aws:acm:us-east-1:210987654321:certificate/c",
    );
    const webhooks = new WebhookPlatform(st, "Webhooks", { domainName: "hooks.example.org", certificate });
    const auditors = new iam.Role(st, "Auditors", { assumedBy: new iam.AccountRootPrincipal() });
    webhooks.storage.events.grantReadData(auditors);
    webhooks.alarmTopic.addSubscription(new subscriptions.SqsSubscription(new sqs.Queue(st, "Incidents")));
    const template = Template.fromStack(st);
    const auditorPolicy = Object.values(template.findResources("AWS::IAM::Policy")).find((p) =>
      JSON.stringify(p).includes("Auditors"),
    );
    expect(JSON.stringify(auditorPolicy)).toContain("dynamodb:Query");
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "sqs" });
  });
});
