/** The delivery workers: Fargate without a load balancer, scaled on the work that can be done now per task. */
import { Duration, Stack } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { workerDefaults } from "../../services/config.ts";
import { fargateMaxStopTimeoutS, maxDeliveryTimeoutMs, workerShutdownDeadlineMs } from "../../services/core/timing.ts";
import { emfDimension, emfMetrics, emfNamespace } from "../../services/worker/cloudwatch-metrics.ts";
import { livenessProbe } from "../../services/worker/metrics-server.ts";
import { containerLogs } from "./container-logs.ts";
import { defaultTaskSize, nodeOptionsFor, type TaskSize } from "./task-size.ts";

export interface WorkerServiceProps {
  readonly cluster: ecs.Cluster;
  readonly image: ecs.ContainerImage;
  /** The image's architecture: Fargate runs the tasks on it (an image of another one dies with `exec format error`). */
  readonly cpuArchitecture: ecs.CpuArchitecture;
  readonly environment: Record<string, string>;
  readonly queue: sqs.IQueue;
  /** The deployment the workers' EMF metrics are dimensioned by (their TABLE_PREFIX). */
  readonly deployment: string;
  /** One attempt's timeout (DELIVERY_TIMEOUT_MS): it bounds the worker's drain on stop. */
  readonly deliveryTimeout: Duration;
  /**
   * Two, so a task replaced (a deploy, a crash, an AZ lost) leaves one delivering: a new task takes 1–2 minutes to
   * start, past the 30 s first-attempt objective. ECS spreads a service's Fargate tasks across the AZs.
   * @default 2
   */
  readonly minWorkers?: number;
  /** @default 10 */
  readonly maxWorkers?: number;
  /** @default 0.5 vCPU, 1 GiB */
  readonly taskSize?: TaskSize;
  /** Deliveries in flight per task (WORKER_CONCURRENCY). @default the worker's own default, 500 */
  readonly concurrency?: number;
  /** The share of a task's in-flight capacity the scaling policy aims to keep busy. @default 0.6 */
  readonly targetUtilization?: number;
  /**
   * The average CPU the second policy keeps the tasks at. Against fast receivers a task runs out of CPU (~140
   * deliveries/s on 0.5 vCPU) long before it holds 300 deliveries in flight, so work in flight alone would not scale.
   * @default 60 (%)
   */
  readonly targetCpuPercent?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Allow `aws ecs execute-command` into the tasks. @default false */
  readonly ecsExec?: boolean;
}

export class WorkerService extends Construct {
  readonly service: ecs.FargateService;
  /** The target of the policy: work per task (see below). */
  readonly backlogPerTaskTarget: number;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const minWorkers = props.minWorkers ?? 2;
    const maxWorkers = props.maxWorkers ?? 10;
    if (minWorkers < 1 || maxWorkers < minWorkers) throw new Error("need 1 <= minWorkers <= maxWorkers");
    const concurrency = props.concurrency ?? workerDefaults.concurrency;
    // Fargate's longest stop timeout: SIGKILL follows SIGTERM after at most this, so the drain must fit in it.
    const stopTimeout = Duration.seconds(fargateMaxStopTimeoutS);
    if (workerShutdownDeadlineMs(props.deliveryTimeout.toMilliseconds()) > stopTimeout.toMilliseconds()) {
      throw new Error(
        `deliveryTimeout must be at most ${maxDeliveryTimeoutMs / 1000} s: the worker's drain must fit Fargate's ${fargateMaxStopTimeoutS} s stop timeout`,
      );
    }
    const metricsPort = 9464;

    // Size: 0.5 vCPU and 1 GiB hold 500 deliveries in flight with room to spare. Measured (docs/BENCHMARKS.md):
    // peak RSS ~190 MB with 1,000 in flight on 1 KiB events; the payload budget adds at most
    // WORKER_MAX_BYTES_IN_FLIGHT (64 MiB); V8 may use 70% of the task (task-size.ts). A delivery costs the
    // worker ~3.5 ms of CPU, so 0.5 vCPU sustains ~140 deliveries/s however slow the receivers are; the
    // scaling policy below adds tasks before that matters.
    const taskSize = props.taskSize ?? defaultTaskSize;
    const task = new ecs.FargateTaskDefinition(this, "Task", {
      ...taskSize,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    task.addContainer("worker", {
      image: props.image,
      command: ["worker"],
      environment: {
        ...props.environment,
        WORKER_CONCURRENCY: String(concurrency),
        METRICS_PORT: String(metricsPort),
        CLOUDWATCH_EMF: "true",
        NODE_OPTIONS: nodeOptionsFor(taskSize.memoryLimitMiB),
      },
      // The worker answers its own liveness; ECS replaces a task that stops answering (a hung process).
      healthCheck: { command: ["CMD", "node", "-e", livenessProbe(metricsPort)], startPeriod: Duration.seconds(60) },
      stopTimeout,
      logging: containerLogs(this, "worker", props.logRetention),
    });
    // No desiredCount: the scaling target owns it (see ApiService). A new service starts with 1 task and
    // registering the scalable target raises it to minWorkers.
    this.service = new ecs.FargateService(this, "Service", {
      cluster: props.cluster,
      taskDefinition: task,
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      enableExecuteCommand: props.ecsExec ?? false,
    });

    // Scale on the work that can be done now, per running task:
    //   load per task = visible messages / tasks + deliveries in flight per task (the workers' own EMF figure)
    // never on SQS's not-visible count: a delivery parked for its next retry (its visibility is the backoff, up
    // to hours) or held back by a cap, a rate limit or an open circuit is not visible either, and it needs no
    // worker until it is due. 50,000 retries of one dead endpoint would otherwise ask for 42 tasks that wait.
    // Target: a task holds `concurrency` deliveries in flight; aiming at 60% of that leaves room for bursts and
    // for the per-tenant caps (one tenant may use 100 of 500), and a visible message counts as one slot's worth
    // of demand: tasks = (visible + in flight) / (0.6 x 500).
    // Scale-in and deliveries in flight: ECS stops a task with SIGTERM and waits `stopTimeout` (120 s) before
    // SIGKILL. The worker's drain stops receiving and finishes what it holds within the delivery timeout plus
    // its bookkeeping (50 s at the 30 s default; the constructor refuses a timeout whose drain would not fit),
    // whatever the number in flight: every delivery runs on its own (tested with 300 in flight). Even a
    // SIGKILL loses nothing (leases lapse, messages reappear): at most the POSTs in flight at that moment are
    // repeated, with the same webhook-id. So task scale-in protection is not needed.
    this.backlogPerTaskTarget = Math.round(concurrency * (props.targetUtilization ?? 0.6));
    // The same scalable target as the API's (with ECS's service-linked role); the policy is written by hand because
    // CDK's target tracking takes a single metric, not metric math.
    const scaling = this.service.autoScaleTaskCount({ minCapacity: minWorkers, maxCapacity: maxWorkers });
    const metric = (
      id: string,
      namespace: string,
      metricName: string,
      dimensions: { name: string; value: string }[],
    ) => ({
      id,
      returnData: false,
      metricStat: { metric: { namespace, metricName, dimensions }, stat: "Average" },
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
            metric("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", [
              { name: "QueueName", value: props.queue.queueName },
            ]),
            metric("inflight", emfNamespace, emfMetrics.inFlight, [{ name: emfDimension, value: props.deployment }]),
            metric("tasks", "ECS/ContainerInsights", "RunningTaskCount", [
              { name: "ClusterName", value: props.cluster.clusterName },
              { name: "ServiceName", value: this.service.serviceName },
            ]),
            {
              id: "backlogPerTask",
              label: "Work per task (visible per task + in flight per task)",
              expression: workBacklogExpression,
              returnData: true,
            },
          ],
        },
      },
    });
    // Beside it, CPU: ECS scales out when either policy asks, and in only when both agree.
    scaling.scaleOnCpuUtilization("Cpu", {
      targetUtilizationPercent: props.targetCpuPercent ?? 60,
      scaleInCooldown: Duration.seconds(120),
      scaleOutCooldown: Duration.seconds(30),
    });
  }
}

/**
 * The scaling policy's metric math: `inflight` is the Average of the tasks' DeliveriesInFlight (one datapoint per
 * task per interval, so the average is per task); no data (no task reporting yet) counts as none in flight. A
 * missing RunningTaskCount (no task running, or Container Insights late) counts as one task, and missing visible
 * messages as none: any missing input would otherwise make the whole expression missing, and the policy would sit in
 * INSUFFICIENT_DATA, scaling nothing, exactly when there are no tasks to report.
 */
export const workBacklogExpression = "FILL(visible, 0) / IF(FILL(tasks, 0) < 1, 1, FILL(tasks, 0)) + FILL(inflight, 0)";
