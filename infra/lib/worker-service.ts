/** The delivery workers: Fargate without a load balancer, scaled on SQS backlog per task. */
import { Duration, Stack } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { workerShutdownDeadlineMs } from "../../services/core/timing.ts";
import { livenessProbe } from "../../services/worker/metrics-server.ts";
import { nodeOptionsFor, taskSize } from "./task-size.ts";

export interface WorkerServiceProps {
  readonly cluster: ecs.Cluster;
  readonly image: ecs.ContainerImage;
  /** The image's architecture: Fargate runs the tasks on it (an image of another one dies with `exec format error`). */
  readonly cpuArchitecture: ecs.CpuArchitecture;
  readonly environment: Record<string, string>;
  readonly queue: sqs.IQueue;
  /** One attempt's timeout (DELIVERY_TIMEOUT_MS): it bounds the worker's drain on stop. */
  readonly deliveryTimeout: Duration;
  /** @default 1 */
  readonly minWorkers?: number;
  /** @default 10 */
  readonly maxWorkers?: number;
  /** Deliveries in flight per task (WORKER_CONCURRENCY). @default 20 */
  readonly concurrency?: number;
  /** How long a message may wait before a worker starts it. @default 30 s */
  readonly acceptableDelay?: Duration;
  /**
   * Seconds one delivery occupies a slot (a POST plus its bookkeeping). @default 0.5 s: webhook receivers
   * typically answer in 50-500 ms; the bench measures the platform's own share at a few ms.
   */
  readonly secondsPerDelivery?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export class WorkerService extends Construct {
  readonly service: ecs.FargateService;
  readonly backlogPerTaskTarget: number;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const minWorkers = props.minWorkers ?? 1;
    const maxWorkers = props.maxWorkers ?? 10;
    if (minWorkers < 1 || maxWorkers < minWorkers) throw new Error("need 1 <= minWorkers <= maxWorkers");
    const concurrency = props.concurrency ?? 20;
    // Fargate's longest stop timeout: SIGKILL follows SIGTERM after at most this, so the drain must fit in it.
    const stopTimeout = Duration.seconds(120);
    if (workerShutdownDeadlineMs(props.deliveryTimeout.toMilliseconds()) > stopTimeout.toMilliseconds()) {
      throw new Error("deliveryTimeout must leave the worker's drain (deliveryTimeout + 20 s) within Fargate's 120 s stop timeout");
    }
    const metricsPort = 9464;

    const task = new ecs.FargateTaskDefinition(this, "Task", {
      ...taskSize,
      runtimePlatform: { cpuArchitecture: props.cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    task.addContainer("worker", {
      image: props.image,
      command: ["worker"],
      environment: {
        ...props.environment,
        WORKER_CONCURRENCY: String(concurrency),
        METRICS_PORT: String(metricsPort),
        NODE_OPTIONS: nodeOptionsFor(taskSize.memoryLimitMiB),
      },
      // The worker answers its own liveness; ECS replaces a task that stops answering (a hung process).
      healthCheck: { command: ["CMD", "node", "-e", livenessProbe(metricsPort)], startPeriod: Duration.seconds(60) },
      stopTimeout,
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: "worker",
        logGroup: new logs.LogGroup(this, "Logs", { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH }),
      }),
    });
    // No desiredCount: the scaling target owns it (see ApiService). A new service starts with 1 task and
    // registering the scalable target raises it to minWorkers.
    this.service = new ecs.FargateService(this, "Service", {
      cluster: props.cluster,
      taskDefinition: task,
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
    });

    // Backlog per task = (visible + in-flight messages) / running tasks, tracked to a target derived from
    // what one task can absorb within the acceptable delay:
    //   throughput per task  = concurrency / secondsPerDelivery      (20 / 0.5 s = 40 deliveries/s)
    //   target backlog/task  = throughput per task x acceptable delay  (40/s x 30 s = 1200 messages)
    // In-flight includes messages parked for a retry (their visibility is the backoff), so a large retry
    // backlog scales out somewhat early; it never scales in below minWorkers, and cooldowns damp flapping.
    const acceptableDelayS = (props.acceptableDelay ?? Duration.seconds(30)).toSeconds();
    this.backlogPerTaskTarget = Math.round((concurrency / (props.secondsPerDelivery ?? 0.5)) * acceptableDelayS);
    // The same scalable target as the API's (with ECS's service-linked role); the policy is written by hand because
    // CDK's target tracking takes a single metric, not metric math.
    const scaling = this.service.autoScaleTaskCount({ minCapacity: minWorkers, maxCapacity: maxWorkers });
    const queueMetric = (id: string, name: string) => ({
      id,
      returnData: false,
      metricStat: {
        metric: { namespace: "AWS/SQS", metricName: name, dimensions: [{ name: "QueueName", value: props.queue.queueName }] },
        stat: "Average",
      },
    });
    new appscaling.CfnScalingPolicy(this, "BacklogPerTask", {
      policyName: `${Stack.of(this).stackName}-worker-backlog-per-task`,
      policyType: "TargetTrackingScaling",
      scalingTargetId: scaling.scalableTargetRef.resourceId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: this.backlogPerTaskTarget,
        scaleInCooldown: 120,
        scaleOutCooldown: 30,
        customizedMetricSpecification: {
          metrics: [
            queueMetric("visible", "ApproximateNumberOfMessagesVisible"),
            queueMetric("inflight", "ApproximateNumberOfMessagesNotVisible"),
            {
              id: "tasks",
              returnData: false,
              metricStat: {
                metric: {
                  namespace: "ECS/ContainerInsights",
                  metricName: "RunningTaskCount",
                  dimensions: [
                    { name: "ClusterName", value: props.cluster.clusterName },
                    { name: "ServiceName", value: this.service.serviceName },
                  ],
                },
                stat: "Average",
              },
            },
            { id: "backlogPerTask", label: "Backlog per task", expression: "(visible + inflight) / IF(tasks < 1, 1, tasks)", returnData: true },
          ],
        },
      },
    });
  }
}
