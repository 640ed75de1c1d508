/**
 * Tracing on AWS: the AWS Distro for OpenTelemetry collector as a sidecar in a task. The task's app container sends
 * OTLP/HTTP to it on the task's own localhost (OTEL_EXPORTER_OTLP_ENDPOINT = collectorEndpoint), and it sends the
 * spans to X-Ray, with the event, tenant and endpoint ids as X-Ray annotations (searchable).
 */
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { containerLogs } from "./container-logs.ts";

/** Pinned by tag, so a deploy never changes the collector by itself (ADOT >= 0.34 takes W3C trace ids for X-Ray). */
export const adotImage = "public.ecr.aws/aws-observability/aws-otel-collector:v0.45.1";

/** Where the app containers send spans. Containers of a Fargate task share its network namespace. */
export const collectorEndpoint = "http://127.0.0.1:4318";

/**
 * The collector's share of its task's memory, a hard limit: it cannot grow into the app's, and the app's heap cap is
 * taken from what is left (webhook-platform.ts). ADOT's collector with one traces pipeline runs in ~50–80 MiB.
 */
export const collectorMemoryMiB = 128;

/**
 * The collector's configuration: OTLP/HTTP in (loopback only), batched, X-Ray out. The memory limiter comes first
 * and refuses spans (the SDK drops them) before the collector reaches its hard limit, where it would be killed and,
 * being non-essential, never restarted: a burst, or X-Ray throttling, costs some spans rather than all tracing.
 */
export const collectorConfig = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:4318
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: ${collectorMemoryMiB - 28}
    spike_limit_mib: 20
  batch/traces:
    timeout: 1s
    send_batch_size: 50
exporters:
  awsxray:
    indexed_attributes: [webhook.event_id, webhook.tenant_id, webhook.endpoint_id, webhook.outcome]
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch/traces]
      exporters: [awsxray]
`;

export interface TracingSidecarProps {
  readonly taskDefinition: ecs.TaskDefinition;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export class TracingSidecar extends Construct {
  readonly container: ecs.ContainerDefinition;

  constructor(scope: Construct, id: string, props: TracingSidecarProps) {
    super(scope, id);
    this.container = props.taskDefinition.addContainer("otel-collector", {
      image: ecs.ContainerImage.fromRegistry(adotImage),
      // A collector that dies loses spans, never the task: the API and the worker go on without it.
      essential: false,
      memoryReservationMiB: 64,
      memoryLimitMiB: collectorMemoryMiB,
      environment: { AOT_CONFIG_CONTENT: collectorConfig },
      logging: containerLogs(this, "otel-collector", props.logRetention),
    });
    // What the X-Ray exporter calls; X-Ray has no resource-level permissions, hence "*".
    iam.Grant.addToPrincipal({
      grantee: props.taskDefinition.taskRole,
      actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
      resourceArns: ["*"],
    });
  }
}
