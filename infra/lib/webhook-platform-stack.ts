/** The whole platform in one stack: network, cluster, tables, queues, secret, API, workers, alarms. */
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, Tags, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as route53 from "aws-cdk-lib/aws-route53";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { defaultSchedule, maxAttempts, parseSchedule } from "../../services/core/retry-policy.ts";
import { Alarms } from "./alarms.ts";
import { ApiService } from "./api-service.ts";
import { LoadBalancerGuard } from "./load-balancer-guard.ts";
import { DeliveryQueues } from "./queues.ts";
import { Storage, type EventsTableCapacity } from "./storage.ts";
import { collectorEndpoint, collectorMemoryMiB, TracingSidecar } from "./tracing-sidecar.ts";
import { nodeOptionsFor, taskSize } from "./task-size.ts";
import { tracingNodeFlag } from "../../services/tracing/start.ts";
import { WorkerService } from "./worker-service.ts";

export interface WebhookPlatformProps extends StackProps {
  /** The API's public name, e.g. `webhooks.example.com`. */
  readonly domainName: string;
  readonly hostedZoneId: string;
  readonly hostedZoneName: string;
  /** Build the image from the repository's Dockerfile (an asset) unless set: then `<imageRepository>:<imageTag>` in ECR. */
  readonly imageTag?: string;
  /** @default "webhook-platform" */
  readonly imageRepository?: string;
  /** @default 2 (a replaced task leaves one delivering) */
  readonly minWorkers?: number;
  /** @default 10 */
  readonly maxWorkers?: number;
  /** @default the worker's default schedule (`defaultSchedule`: 1m,2m,4m,8m,16m) */
  readonly retrySchedule?: string;
  /** @default Duration.seconds(30) */
  readonly deliveryTimeout?: Duration;
  /** The directory with the Dockerfile. */
  readonly imageDirectory: string;
  /**
   * The tasks' CPU architecture; the Dockerfile is built for it (an `imageTag` image must be built for it too).
   * x86_64 builds natively on the usual x86 CI machine and with Docker Desktop's emulation on Apple Silicon; arm64
   * (Graviton) costs ~20% less but needs an ARM machine or QEMU emulation to build.
   * @default "x86_64"
   */
  readonly cpuArchitecture?: "x86_64" | "arm64";
  /** Trace with OpenTelemetry: an ADOT collector sidecar in both tasks, exporting to X-Ray. @default false */
  readonly tracing?: boolean;
  /**
   * With tracing: the share of new traces recorded (OTEL_TRACES_SAMPLER_ARG). Every trace at 100 events/s is
   * ≈ $1.3k a month of X-Ray; a twentieth keeps enough to see every kind of delivery (README, Costs).
   * @default 0.05
   */
  readonly traceSampleRatio?: number;
  /** Networks that may reach `/admin`, `/console` and `/metrics` through the load balancer. @default [] (none) */
  readonly adminCidrs?: readonly string[];
  /**
   * The KMS key that seals endpoint signing secrets, when it exists already: the key a deleted stack of this deployment
   * left behind with its tables (their secrets open only with it), or one you manage. Its key policy must let the
   * account's IAM policies grant its use (the default key policy does).
   * @default a new key, with yearly rotation, kept when the stack is deleted
   */
  readonly signingKeyArn?: string;
  /**
   * Addresses that get the alarms by email, subscribed to the stack's alarm topic (each confirms once).
   * @default [] (subscribe to the `AlarmTopic` output yourself, or give alarmTopicArn)
   */
  readonly alarmEmails?: readonly string[];
  /**
   * Send alarms to this existing SNS topic (a pager, AWS Chatbot) instead of a topic of the stack's own; its access
   * policy must let events.amazonaws.com publish. Not with alarmEmails: subscribe those to your topic.
   * @default a new topic
   */
  readonly alarmTopicArn?: string;
  /**
   * Provisioned capacity for the events table, auto-scaled between these bounds: for steady traffic (README, Costs).
   * @default on demand
   */
  readonly eventsTableCapacity?: EventsTableCapacity;
  /** Allow `aws ecs execute-command` into the API and worker tasks (a shell in production: only to debug). @default false */
  readonly ecsExec?: boolean;
  /** Put an AWS WAF web ACL with a per-address rate limit in front of the API. @default false */
  readonly waf?: boolean;
  /** The WAF's requests per address per 5 minutes. @default 20000 */
  readonly wafRateLimit?: number;
}

/** The cost allocation tag every resource carries, valued with the deployment's name. */
export const deploymentTagKey = "webhook-platform:deployment";

const architectures = {
  x86_64: { cpu: ecs.CpuArchitecture.X86_64, image: Platform.LINUX_AMD64 },
  arm64: { cpu: ecs.CpuArchitecture.ARM64, image: Platform.LINUX_ARM64 },
};

export class WebhookPlatformStack extends Stack {
  constructor(scope: Construct, id: string, props: WebhookPlatformProps) {
    super(scope, id, props);
    const retrySchedule = props.retrySchedule ?? defaultSchedule;
    const schedule = parseSchedule(retrySchedule);
    if (!schedule) throw new Error(`retrySchedule '${retrySchedule}' is not a list of durations`);
    if (!props.domainName.endsWith(`.${props.hostedZoneName}`) && props.domainName !== props.hostedZoneName) {
      throw new Error(`domainName ${props.domainName} is not inside hostedZoneName ${props.hostedZoneName}`);
    }
    const deliveryTimeout = props.deliveryTimeout ?? Duration.seconds(30);
    if (props.signingKeyArn && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/.test(props.signingKeyArn))
      throw new Error(
        `signingKeyArn is a KMS key's ARN (arn:aws:kms:<region>:<account>:key/<id>), not ${props.signingKeyArn}`,
      );

    // Two AZs, a NAT gateway in each: losing one AZ stops neither deliveries nor task starts in the other. Webhooks
    // leave from the NAT gateways' Elastic IPs, which receivers allow-list (the `EgressIps` output), so both are
    // allocated now, and kept for as long as the deployment exists (released only if their first deploy rolls back):
    // adding an AZ's NAT later would have changed every customer's allow-list.
    // ("EgressIp" is the id the first one had when there was one NAT gateway: a deployed stack keeps its address.)
    const egressIps = ["EgressIp", "EgressIp2"].map((id) => {
      const eip = new ec2.CfnEIP(this, id, { domain: "vpc" });
      eip.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
      return eip;
    });
    const vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 2,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: egressIps.map((ip) => ip.attrAllocationId) }),
      // Free gateway endpoints: DynamoDB traffic (every delivery) and image layers from ECR (served by S3) skip
      // the NAT gateway's per-GB processing charge.
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    // SQS has no gateway endpoint; an interface endpoint in each AZ costs less than the NAT's per-GB charge on every
    // send, receive and delete from 100 events/s (README, Costs). Private DNS: the SDK's usual SQS name resolves to it.
    vpc.addInterfaceEndpoint("Sqs", { service: ec2.InterfaceVpcEndpointAwsService.SQS, privateDnsEnabled: true });
    const cluster = new ecs.Cluster(this, "Cluster", { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    // Pinned, not the build machine's: an image built on an ARM laptop or CI runner would not start on x86 tasks.
    const architecture = architectures[props.cpuArchitecture ?? "x86_64"];
    const image = props.imageTag
      ? ecs.ContainerImage.fromEcrRepository(
          ecr.Repository.fromRepositoryName(this, "Repository", props.imageRepository ?? "webhook-platform"),
          props.imageTag,
        )
      : ecs.ContainerImage.fromAsset(props.imageDirectory, { platform: architecture.image });

    // The deployment's name: the tables' prefix (TABLE_PREFIX), the workers' metric dimension, the key's alias.
    const deployment = this.stackName.toLowerCase();
    // On every resource that takes tags: activate `webhook-platform:deployment` as a cost allocation tag in Billing to
    // see this deployment's costs apart (your own tags, from StackProps.tags, go on everything too).
    Tags.of(this).add(deploymentTagKey, deployment);
    const storage = new Storage(this, "Storage", {
      tablePrefix: deployment,
      eventsTableCapacity: props.eventsTableCapacity,
    });
    const queues = new DeliveryQueues(this, "Queues", { maxAttempts: maxAttempts(schedule), deliveryTimeout });
    const adminToken = new secretsmanager.Secret(this, "AdminToken", {
      description: "Bearer token for the webhook platform's /admin API",
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    // Endpoint signing secrets are sealed with data keys of this key (envelope encryption): a backup or a read of the
    // tenants table alone cannot forge webhooks. Kept with the tables, since without it their secrets cannot be
    // opened, except when the deploy that created it rolls back (nothing was sealed with it yet). A stack created
    // again around kept tables is given the kept key (`signingKeyArn`); the alias names whichever key is in use.
    const signingSecretsKey: kms.IKey = props.signingKeyArn
      ? kms.Key.fromKeyArn(this, "SigningSecretsKey", props.signingKeyArn)
      : new kms.Key(this, "SigningSecretsKey", {
          description: `Seals the endpoint signing secrets of the webhook platform ${deployment}`,
          enableKeyRotation: true,
          removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        });
    new kms.Alias(this, "SigningSecretsKeyAlias", {
      aliasName: `alias/${deployment}/signing-secrets`,
      targetKey: signingSecretsKey,
    });
    const environment = {
      AWS_REGION: this.region,
      SECRETS_KMS_KEY_ID: signingSecretsKey.keyArn,
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

    const zone = route53.HostedZone.fromHostedZoneAttributes(this, "Zone", {
      hostedZoneId: props.hostedZoneId,
      zoneName: props.hostedZoneName,
    });
    const cpuArchitecture = architecture.cpu;
    const api = new ApiService(this, "Api", {
      cluster,
      image,
      cpuArchitecture,
      environment,
      adminToken,
      domainName: props.domainName,
      zone,
      ecsExec: props.ecsExec,
    });
    new LoadBalancerGuard(this, "Edge", {
      service: api.service,
      adminCidrs: props.adminCidrs,
      waf: props.waf,
      wafRateLimit: props.wafRateLimit,
    });
    const worker = new WorkerService(this, "Worker", {
      cluster,
      image,
      cpuArchitecture,
      environment,
      queue: queues.queue,
      deployment: environment.TABLE_PREFIX,
      deliveryTimeout,
      minWorkers: props.minWorkers,
      maxWorkers: props.maxWorkers,
      ecsExec: props.ecsExec,
    });

    if (props.tracing) {
      for (const [id, task] of [
        ["ApiTracing", api.service.taskDefinition],
        ["WorkerTracing", worker.service.taskDefinition],
      ] as const) {
        new TracingSidecar(this, id, { taskDefinition: task });
        // The heap cap comes from what the collector leaves of the task's memory.
        task.defaultContainer?.addEnvironment(
          "NODE_OPTIONS",
          `${nodeOptionsFor(taskSize.memoryLimitMiB - collectorMemoryMiB)} ${tracingNodeFlag}`,
        );
      }
    }

    // Least privilege. The API: tables, send (never receive) on the queue, and the DLQ for peek/requeue.
    const apiRole = api.service.taskDefinition.taskRole;
    for (const table of [storage.tenants, storage.apiKeys, storage.events]) table.grantReadWriteData(apiRole);
    queues.queue.grantSendMessages(apiRole);
    queues.queue.grant(apiRole, "sqs:GetQueueAttributes");
    queues.deadLetterQueue.grantConsumeMessages(apiRole);
    // The API seals the secrets it creates and rotates, and never opens one: it needs data keys, not Decrypt.
    signingSecretsKey.grant(apiRole, "kms:GenerateDataKey");
    // The worker: consume the queue (and re-send delayed copies), send to the DLQ, events and tenants only, and of
    // those only the actions it calls: events: lease, outcome and rate slots (GetItem, UpdateItem), the attempt log
    // (BatchWriteItem), the sweeper's by-due index (Query), an operational event it emits (PutItem, conditional on
    // the event being new); tenants: read, and the guarded write of a changed endpoint (GetItem, PutItem). No Scan,
    // DeleteItem or anything else a compromised worker could use wholesale.
    const workerRole = worker.service.taskDefinition.taskRole;
    storage.events.grant(
      workerRole,
      "dynamodb:GetItem",
      "dynamodb:UpdateItem",
      "dynamodb:Query",
      "dynamodb:BatchWriteItem",
      "dynamodb:PutItem",
    );
    storage.tenants.grant(workerRole, "dynamodb:GetItem", "dynamodb:PutItem");
    queues.queue.grantConsumeMessages(workerRole);
    queues.queue.grantSendMessages(workerRole);
    queues.deadLetterQueue.grantSendMessages(workerRole);
    // The worker opens secrets to sign with, and seals any still in clear when it writes a tenant (circuit, health).
    signingSecretsKey.grant(workerRole, "kms:Decrypt", "kms:GenerateDataKey");
    queues.deadLetterQueue.grant(workerRole, "sqs:GetQueueUrl");
    workerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["sqs:GetQueueUrl"],
        resources: [queues.queue.queueArn, queues.deadLetterQueue.queueArn],
      }),
    );

    const alarms = new Alarms(this, "Alarms", {
      queue: queues.queue,
      deadLetterQueue: queues.deadLetterQueue,
      deadLetterRetention: queues.deadLetterRetention,
      topic: props.alarmTopicArn ? sns.Topic.fromTopicArn(this, "ExistingAlarmTopic", props.alarmTopicArn) : undefined,
      emails: props.alarmEmails,
      loadBalancer: api.service.loadBalancer,
      cluster,
      workerService: worker.service,
      apiService: api.service.service,
      deployment: environment.TABLE_PREFIX,
    });

    new CfnOutput(this, "ApiUrl", { value: `https://${props.domainName}` });
    new CfnOutput(this, "LoadBalancerDns", { value: api.service.loadBalancer.loadBalancerDnsName });
    new CfnOutput(this, "EgressIps", {
      value: Fn.join(
        ",",
        egressIps.map((ip) => ip.attrPublicIp),
      ),
      description: "Webhooks leave from these addresses: give them to receivers to allow-list",
    });
    new CfnOutput(this, "QueueUrl", { value: queues.queue.queueUrl });
    new CfnOutput(this, "DeadLetterQueueUrl", { value: queues.deadLetterQueue.queueUrl });
    new CfnOutput(this, "TablePrefix", { value: storage.names.tenants.replace(/-tenants$/, "") });
    new CfnOutput(this, "TenantsTable", { value: storage.tenants.tableName });
    new CfnOutput(this, "ApiKeysTable", { value: storage.apiKeys.tableName });
    new CfnOutput(this, "EventsTable", { value: storage.events.tableName });
    new CfnOutput(this, "AdminTokenSecret", { value: adminToken.secretArn });
    new CfnOutput(this, "AlarmTopic", { value: alarms.topic.topicArn });
    new CfnOutput(this, "SigningKeyArn", {
      value: signingSecretsKey.keyArn,
      description:
        "The key that seals endpoint signing secrets: give it as signingKeyArn to a stack that takes the tables back",
    });
  }
}
