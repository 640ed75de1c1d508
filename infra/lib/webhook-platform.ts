/**
 * The whole platform as one construct, for any CDK app: network, cluster, tables, queues, secrets, the API behind its
 * load balancer, the workers, alarms. Our own app (infra/bin/app.ts) is one user of it; infra/examples/ shows another.
 */
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, Tags } from "aws-cdk-lib";
import type * as acm from "aws-cdk-lib/aws-certificatemanager";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import type * as ecsPatterns from "aws-cdk-lib/aws-ecs-patterns";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as route53 from "aws-cdk-lib/aws-route53";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { fileURLToPath } from "node:url";
import { defaultSchedule, maxAttempts, parseSchedule } from "../../services/core/retry-policy.ts";
import { tracingNodeFlag } from "../../services/tracing/start.ts";
import { Alarms } from "./alarms.ts";
import { ApiService } from "./api-service.ts";
import { LoadBalancerGuard } from "./load-balancer-guard.ts";
import { platformNetwork } from "./network.ts";
import { DeliveryQueues } from "./queues.ts";
import { Storage, type EventsTableCapacity } from "./storage.ts";
import { grantDestinationRoles, grantTaskPermissions } from "./task-permissions.ts";
import { defaultTaskSize, nodeOptionsFor, type TaskSize } from "./task-size.ts";
import { collectorEndpoint, collectorMemoryMiB, TracingSidecar } from "./tracing-sidecar.ts";
import { WorkerService } from "./worker-service.ts";

export interface WebhookPlatformProps {
  /** The API's public name, e.g. `webhooks.example.com`. */
  readonly domainName: string;
  /**
   * A public hosted zone that holds domainName: the platform adds the alias record and, unless `certificate` is given,
   * validates a certificate in it. Without it, give a certificate and point the name at `loadBalancerDnsName` yourself.
   * @default none (then `certificate` is required)
   */
  readonly hostedZone?: route53.IHostedZone;
  /** A certificate for domainName (in the stack's region). @default one validated by DNS in hostedZone */
  readonly certificate?: acm.ICertificate;
  /**
   * The deployment's name: the tables' prefix (`<name>-tenants`, …), the workers' metric dimension, the signing key's
   * alias, the cost allocation tag. Two platforms in one account need two names.
   * @default the stack's name, lower-cased
   */
  readonly name?: string;
  /**
   * The services' image. Built for `cpuArchitecture`, whatever you pass.
   * @default the repository's Dockerfile, built as an asset
   */
  readonly image?: ecs.ContainerImage;
  /**
   * The tasks' CPU architecture; the Dockerfile is built for it (an `image` of yours must be built for it too).
   * x86_64 builds natively on the usual x86 CI machine and with Docker Desktop's emulation on Apple Silicon; arm64
   * (Graviton) costs ~20% less but needs an ARM machine or QEMU emulation to build.
   * @default "x86_64"
   */
  readonly cpuArchitecture?: "x86_64" | "arm64";
  /** Each API task's size. @default 0.5 vCPU, 1 GiB */
  readonly apiTaskSize?: TaskSize;
  /** Each worker task's size; a delivery costs ~3.5 ms of CPU. @default 0.5 vCPU, 1 GiB */
  readonly workerTaskSize?: TaskSize;
  /** @default 2 (one per availability zone) */
  readonly minApiTasks?: number;
  /** @default 10 */
  readonly maxApiTasks?: number;
  /** @default 2 (a replaced task leaves one delivering) */
  readonly minWorkers?: number;
  /** @default 10 */
  readonly maxWorkers?: number;
  /** @default the worker's default schedule (`defaultSchedule`: 1m,2m,4m,8m,16m) */
  readonly retrySchedule?: string;
  /** One attempt's whole-request timeout; at most 100 s, so the worker's drain fits Fargate's. @default 30 s */
  readonly deliveryTimeout?: Duration;
  /** Networks that may reach `/admin`, `/console` and `/metrics` through the load balancer. @default [] (none) */
  readonly adminCidrs?: readonly string[];
  /** Put an AWS WAF web ACL with a per-address rate limit in front of the API. @default false */
  readonly waf?: boolean;
  /** The WAF's requests per address per 5 minutes (only with `waf`). @default 20000 */
  readonly wafRateLimit?: number;
  /** Trace with OpenTelemetry: an ADOT collector sidecar in both tasks, exporting to X-Ray. @default false */
  readonly tracing?: boolean;
  /**
   * With tracing: the share of new traces recorded (OTEL_TRACES_SAMPLER_ARG). Every trace at 100 events/s is
   * ≈ $1.3k a month of X-Ray; a twentieth keeps enough to see every kind of delivery (README, Costs).
   * @default 0.05
   */
  readonly traceSampleRatio?: number;
  /** Addresses subscribed to the platform's alarm topic (each confirms once). @default [] */
  readonly alarmEmails?: readonly string[];
  /**
   * Your topic for the alarms and task events (a pager, AWS Chatbot) instead of one of the platform's own; its access
   * policy must let events.amazonaws.com publish. Not with alarmEmails: subscribe those to your topic.
   * @default a new topic
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The KMS key that seals endpoint signing secrets, when it exists already: the key a deleted stack left behind with
   * its tables (their secrets open only with it), or one you manage. Its key policy must let the account's IAM
   * policies grant its use (the default key policy does).
   * @default a new key, with yearly rotation, kept when the stack is deleted
   */
  readonly signingKey?: kms.IKey;
  /** Provisioned capacity for the events table, auto-scaled between these bounds (README, Costs). @default on demand */
  readonly eventsTableCapacity?: EventsTableCapacity;
  /** Allow `aws ecs execute-command` into the tasks (a shell in production: only to debug). @default false */
  readonly ecsExec?: boolean;
  /**
   * AWS destinations: the customer roles the worker may assume (IAM's `*` wildcard), always with an external id and
   * never in this account. Customers name their role to match (README, AWS destinations).
   * @default arn:<partition>:iam::*:role/webhooks-*
   */
  readonly destinationRolePattern?: string;
}

/** The cost allocation tag every resource carries, valued with the deployment's name. */
export const deploymentTagKey = "webhook-platform:deployment";

/** The repository's root, where the Dockerfile is (this file is infra/lib/webhook-platform.ts). */
const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url));

const architectures = {
  x86_64: { cpu: ecs.CpuArchitecture.X86_64, image: Platform.LINUX_AMD64 },
  arm64: { cpu: ecs.CpuArchitecture.ARM64, image: Platform.LINUX_ARM64 },
};

export class WebhookPlatform extends Construct {
  /** `https://<domainName>`. */
  readonly url: string;
  /** The deployment's name (see `name`). */
  readonly deployment: string;
  readonly storage: Storage;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly api: ecsPatterns.ApplicationLoadBalancedFargateService;
  readonly worker: ecs.FargateService;
  /** Where alarms and the task events go. */
  readonly alarmTopic: sns.ITopic;
  readonly dashboard: cloudwatch.Dashboard;
  /** The addresses webhooks leave from, one per AZ (tokens). */
  readonly egressIps: readonly string[];
  /** The admin API's bearer token. */
  readonly adminToken: secretsmanager.ISecret;
  readonly signingKey: kms.IKey;

  constructor(scope: Construct, id: string, props: WebhookPlatformProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const retrySchedule = props.retrySchedule ?? defaultSchedule;
    const schedule = parseSchedule(retrySchedule);
    if (!schedule) throw new Error(`retrySchedule '${retrySchedule}' is not a list of durations`);
    const zone = props.hostedZone;
    if (zone && !props.domainName.endsWith(`.${zone.zoneName}`) && props.domainName !== zone.zoneName)
      throw new Error(`domainName ${props.domainName} is not inside the hosted zone ${zone.zoneName}`);
    if (!zone && !props.certificate)
      throw new Error("a hostedZone (to validate a certificate in) or a certificate is required");
    const deliveryTimeout = props.deliveryTimeout ?? Duration.seconds(30);
    this.deployment = props.name ?? stack.stackName.toLowerCase();
    if (!/^[a-z][a-z0-9-]{0,63}$/.test(this.deployment))
      throw new Error(`name ${this.deployment}: lower-case letters, digits and '-', starting with a letter`);
    this.url = `https://${props.domainName}`;
    const deployment = this.deployment;

    // On every resource that takes tags: activate `webhook-platform:deployment` as a cost allocation tag in Billing to
    // see this deployment's costs apart.
    Tags.of(this).add(deploymentTagKey, deployment);
    const network = platformNetwork(this);
    this.egressIps = network.egressIps;
    const cluster = new ecs.Cluster(this, "Cluster", {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    // Pinned, not the build machine's: an image built on an ARM laptop or CI runner would not start on x86 tasks.
    const architecture = architectures[props.cpuArchitecture ?? "x86_64"];
    const image = props.image ?? ecs.ContainerImage.fromAsset(repositoryRoot, { platform: architecture.image });

    this.storage = new Storage(this, "Storage", {
      tablePrefix: deployment,
      eventsTableCapacity: props.eventsTableCapacity,
    });
    const queues = new DeliveryQueues(this, "Queues", { maxAttempts: maxAttempts(schedule), deliveryTimeout });
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;
    this.adminToken = new secretsmanager.Secret(this, "AdminToken", {
      description: "Bearer token for the webhook platform's /admin API",
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    // Endpoint signing secrets are sealed with data keys of this key (envelope encryption): a backup or a read of the
    // tenants table alone cannot forge webhooks. Kept with the tables, since without it their secrets cannot be
    // opened, except when the deploy that created it rolls back (nothing was sealed with it yet). A stack created
    // again around kept tables is given the kept key (`signingKey`); the alias names whichever key is in use.
    this.signingKey =
      props.signingKey ??
      new kms.Key(this, "SigningSecretsKey", {
        description: `Seals the endpoint signing secrets of the webhook platform ${deployment}`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      });
    new kms.Alias(this, "SigningSecretsKeyAlias", {
      aliasName: `alias/${deployment}/signing-secrets`,
      targetKey: this.signingKey,
    });
    // Complete and self-describing: everything a service reads from its environment, nothing resolved at start.
    const environment = {
      AWS_REGION: stack.region,
      SECRETS_KMS_KEY_ID: this.signingKey.keyArn,
      TABLE_PREFIX: deployment,
      DELIVERY_QUEUE: queues.queue.queueUrl,
      DEAD_LETTER_QUEUE: queues.deadLetterQueue.queueUrl,
      RETRY_SCHEDULE: retrySchedule,
      DELIVERY_TIMEOUT_MS: String(deliveryTimeout.toMilliseconds()),
      VISIBILITY_TIMEOUT_S: String(queues.visibilityTimeout.toSeconds()),
      LOG_LEVEL: "info",
      ...(props.tracing
        ? {
            OTEL_EXPORTER_OTLP_ENDPOINT: collectorEndpoint,
            OTEL_TRACES_SAMPLER_ARG: String(props.traceSampleRatio ?? 0.05),
          }
        : {}),
    };

    const apiTaskSize = props.apiTaskSize ?? defaultTaskSize;
    const workerTaskSize = props.workerTaskSize ?? defaultTaskSize;
    const api = new ApiService(this, "Api", {
      cluster,
      image,
      cpuArchitecture: architecture.cpu,
      environment,
      adminToken: this.adminToken,
      domainName: props.domainName,
      zone,
      certificate: props.certificate,
      taskSize: apiTaskSize,
      minTasks: props.minApiTasks,
      maxTasks: props.maxApiTasks,
      ecsExec: props.ecsExec,
    });
    this.api = api.service;
    new LoadBalancerGuard(this, "Edge", {
      service: api.service,
      adminCidrs: props.adminCidrs,
      waf: props.waf,
      wafRateLimit: props.wafRateLimit,
    });
    const worker = new WorkerService(this, "Worker", {
      cluster,
      image,
      cpuArchitecture: architecture.cpu,
      environment,
      queue: queues.queue,
      deployment,
      deliveryTimeout,
      taskSize: workerTaskSize,
      minWorkers: props.minWorkers,
      maxWorkers: props.maxWorkers,
      ecsExec: props.ecsExec,
    });
    this.worker = worker.service;

    if (props.tracing) {
      for (const [sidecarId, task, size] of [
        ["ApiTracing", api.service.taskDefinition, apiTaskSize],
        ["WorkerTracing", worker.service.taskDefinition, workerTaskSize],
      ] as const) {
        new TracingSidecar(this, sidecarId, { taskDefinition: task });
        // The heap cap comes from what the collector leaves of the task's memory.
        task.defaultContainer?.addEnvironment(
          "NODE_OPTIONS",
          `${nodeOptionsFor(size.memoryLimitMiB - collectorMemoryMiB)} ${tracingNodeFlag}`,
        );
      }
    }
    const roles = { api: api.service.taskDefinition.taskRole, worker: worker.service.taskDefinition.taskRole };
    grantTaskPermissions(roles, { storage: this.storage, queues, signingKey: this.signingKey });
    const destinationRolePattern = props.destinationRolePattern ?? `arn:${stack.partition}:iam::*:role/webhooks-*`;
    grantDestinationRoles(roles.worker, destinationRolePattern, stack.account, stack.partition);
    // The API shows customers the role to trust and refuses roles and targets the worker could never use.
    api.service.taskDefinition.defaultContainer?.addEnvironment("DESTINATION_PRINCIPAL_ARN", roles.worker.roleArn);
    api.service.taskDefinition.defaultContainer?.addEnvironment("DESTINATION_ROLE_PATTERN", destinationRolePattern);
    api.service.taskDefinition.defaultContainer?.addEnvironment("PLATFORM_ACCOUNT_ID", stack.account);

    const alarms = new Alarms(this, "Alarms", {
      queue: queues.queue,
      deadLetterQueue: queues.deadLetterQueue,
      deadLetterRetention: queues.deadLetterRetention,
      topic: props.alarmTopic,
      emails: props.alarmEmails,
      loadBalancer: api.service.loadBalancer,
      cluster,
      workerService: worker.service,
      apiService: api.service.service,
      deployment,
    });
    this.alarmTopic = alarms.topic;
    this.dashboard = alarms.dashboard;

    new CfnOutput(this, "ApiUrl", { value: this.url });
    new CfnOutput(this, "LoadBalancerDns", { value: api.service.loadBalancer.loadBalancerDnsName });
    new CfnOutput(this, "EgressIps", {
      value: Fn.join(",", [...this.egressIps]),
      description: "Webhooks leave from these addresses: give them to receivers to allow-list",
    });
    new CfnOutput(this, "QueueUrl", { value: queues.queue.queueUrl });
    new CfnOutput(this, "DeadLetterQueueUrl", { value: queues.deadLetterQueue.queueUrl });
    new CfnOutput(this, "TablePrefix", { value: deployment });
    new CfnOutput(this, "TenantsTable", { value: this.storage.tenants.tableName });
    new CfnOutput(this, "ApiKeysTable", { value: this.storage.apiKeys.tableName });
    new CfnOutput(this, "EventsTable", { value: this.storage.events.tableName });
    new CfnOutput(this, "AdminTokenSecret", { value: this.adminToken.secretArn });
    new CfnOutput(this, "AlarmTopic", { value: alarms.topic.topicArn });
    new CfnOutput(this, "SigningKeyArn", {
      value: this.signingKey.keyArn,
      description:
        "The key that seals endpoint signing secrets: give it as signingKeyArn to a stack that takes the tables back",
    });
  }
}
