/** The ingestion and admin API: Fargate behind an internet-facing ALB with HTTPS on a custom domain. */
import { Duration } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as ecsPatterns from "aws-cdk-lib/aws-ecs-patterns";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as route53 from "aws-cdk-lib/aws-route53";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { albIdleTimeoutS } from "../../services/core/timing.ts";
import { containerLogs } from "./container-logs.ts";
import { defaultTaskSize, nodeOptionsFor, type TaskSize } from "./task-size.ts";

export interface ApiServiceProps {
  readonly cluster: ecs.ICluster;
  readonly image: ecs.ContainerImage;
  /** The image's architecture: Fargate runs the tasks on it (an image of another one dies with `exec format error`). */
  readonly cpuArchitecture: ecs.CpuArchitecture;
  readonly environment: Record<string, string>;
  readonly adminToken: secretsmanager.ISecret;
  /** The API's public name, e.g. `webhooks.example.com`; must lie in `zone`. */
  readonly domainName: string;
  /** Holds the alias record for domainName, and validates the certificate unless one is given. @default none */
  readonly zone?: route53.IHostedZone;
  /** @default a certificate for domainName, validated by DNS in `zone` (one of the two is required) */
  readonly certificate?: acm.ICertificate;
  /** @default 0.5 vCPU, 1 GiB */
  readonly taskSize?: TaskSize;
  /** @default 2 (one per availability zone) */
  readonly minTasks?: number;
  /** @default 10 */
  readonly maxTasks?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Allow `aws ecs execute-command` into the tasks (a shell in production: keep it off unless debugging). @default false */
  readonly ecsExec?: boolean;
}

export class ApiService extends Construct {
  readonly service: ecsPatterns.ApplicationLoadBalancedFargateService;

  constructor(scope: Construct, id: string, props: ApiServiceProps) {
    super(scope, id);
    const minTasks = props.minTasks ?? 2;
    if (minTasks < 2)
      throw new Error("minTasks must be at least 2 so the API survives the loss of one availability zone");
    const taskSize = props.taskSize ?? defaultTaskSize;
    const zone = props.zone;
    if (!props.certificate && !zone)
      throw new Error("a zone (to validate a certificate in) or a certificate is required");
    const certificate =
      props.certificate ??
      new acm.Certificate(this, "Certificate", {
        domainName: props.domainName,
        validation: acm.CertificateValidation.fromDns(zone),
      });
    this.service = new ecsPatterns.ApplicationLoadBalancedFargateService(this, "Service", {
      cluster: props.cluster,
      ...taskSize,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      // No desiredCount: a count in the template is re-applied on every deploy, scaling a scaled-out service back
      // in. Left out, ECS starts a new service with 1 task, registering the scalable target below raises it to
      // minTasks at once, and deploys keep the current count. (CDK v2's ecs-patterns omits it unless given: v1's
      // removeDefaultDesiredCount flag is always on, and setting it is an error.)
      publicLoadBalancer: true,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificate,
      // The alias record, where the zone is ours to write to; without it the user points the name at the ALB.
      ...(zone ? { domainName: props.domainName, domainZone: zone } : {}),
      redirectHTTP: true,
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      enableExecuteCommand: props.ecsExec ?? false,
      taskImageOptions: {
        image: props.image,
        command: ["api"],
        containerPort: 3000,
        // PUBLIC_URL: portal links name the domain, whatever Host header a request came with.
        environment: {
          ...props.environment,
          PORT: "3000",
          PUBLIC_URL: `https://${props.domainName}`,
          // The ALB appends the address it saw to X-Forwarded-For: the one proxy the API reads the client behind.
          TRUST_PROXY_HOPS: "1",
          NODE_OPTIONS: nodeOptionsFor(taskSize.memoryLimitMiB),
        },
        secrets: { ADMIN_TOKEN: ecs.Secret.fromSecretsManager(props.adminToken) },
        logDriver: containerLogs(this, "api", props.logRetention),
      },
    });
    // Liveness, not readiness: /readyz asks DynamoDB and SQS, so an AWS blip would fail every task at once and
    // ECS would replace them all; a live task answers such a blip with 503s and recovers by itself.
    this.service.targetGroup.configureHealthCheck({
      path: "/healthz",
      healthyHttpCodes: "200",
      interval: Duration.seconds(15),
      // A new task takes traffic after two good answers (30 s), not five (75 s, the default): deploys and scale-outs
      // are that much quicker, and /healthz answers only once the process serves.
      healthyThresholdCount: 2,
    });
    // Set, though it is the ALB's default, because the API's keep-alive must outlast it (timing.ts); no request runs
    // longer (a DLQ requeue answers within requeueBudgetMs).
    this.service.loadBalancer.setAttribute("idle_timeout.timeout_seconds", String(albIdleTimeoutS));
    // Requests drain for up to the API's own shutdown deadline.
    this.service.targetGroup.setAttribute("deregistration_delay.timeout_seconds", "30");
    const scaling = this.service.service.autoScaleTaskCount({
      minCapacity: minTasks,
      maxCapacity: props.maxTasks ?? 10,
    });
    scaling.scaleOnCpuUtilization("Cpu", { targetUtilizationPercent: 60 });
    scaling.scaleOnRequestCount("Requests", { requestsPerTarget: 3000, targetGroup: this.service.targetGroup });
  }
}
