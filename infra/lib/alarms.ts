/**
 * What pages an operator (anything in the DLQ, deliveries overdue with nobody working on them, API 5xx, worker
 * tasks dying, the first-attempt SLO burning), and a dashboard of the queue split into what is being worked on and
 * what waits on purpose.
 */
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { firstAttemptSloS, firstAttemptSloTarget } from "../../services/core/delivery-figures.ts";
import { emfDimension, emfMetrics, emfNamespace } from "../../services/worker/cloudwatch-metrics.ts";

export interface AlarmsProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly cluster: ecs.ICluster;
  readonly workerService: ecs.FargateService;
  readonly apiService: ecs.FargateService;
  /** The deployment the workers' EMF metrics are dimensioned by (their TABLE_PREFIX). */
  readonly deployment: string;
  /**
   * How long a delivery may stay overdue (due, not leased, not held or parked) before it pages: deliveries that
   * wait with nobody working on them mean stuck or too few workers. @default 15 min
   */
  readonly maxOverdue?: Duration;
  /** @default 1 (%) */
  readonly max5xxPercent?: number;
}

export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly deadLetters: cloudwatch.Alarm;
  readonly overdue: cloudwatch.Alarm;
  readonly dashboard: cloudwatch.Dashboard;
  readonly api5xx: cloudwatch.Alarm;
  /** The first-attempt SLO's error budget burning 14.4 times too fast (it would last about two days). */
  readonly firstAttemptSlo: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, "Topic", { displayName: "Webhook platform alarms" });
    const notify = new actions.SnsAction(this.topic);
    const minute = Duration.minutes(1);

    this.deadLetters = props.deadLetterQueue
      .metricApproximateNumberOfMessagesVisible({ period: minute, statistic: "Maximum" })
      .createAlarm(this, "DeadLetters", {
        alarmDescription: "Deliveries are in the dead-letter queue: inspect with GET /admin/dlq",
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    // Not SQS's age of the oldest message: a delivery parked for a retry or held by an open circuit keeps its
    // message for as long as that lasts, on purpose. The sweeper's figure counts only deliveries that are due
    // and that no worker holds; with no figure at all (no worker running) the alarm fires too.
    const worker = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: emfNamespace,
        metricName,
        dimensionsMap: { [emfDimension]: props.deployment },
        statistic,
        period: minute,
      });
    this.overdue = worker(emfMetrics.oldestOverdue, "Maximum").createAlarm(this, "Overdue", {
      alarmDescription: "Deliveries are overdue and no worker is working on them (stuck, or too few workers)",
      threshold: (props.maxOverdue ?? Duration.minutes(15)).toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const lbMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: "AWS/ApplicationELB",
        metricName,
        dimensionsMap: { LoadBalancer: props.loadBalancer.loadBalancerFullName },
        statistic: "Sum",
        period: minute,
      });
    this.api5xx = new cloudwatch.MathExpression({
      label: "API 5xx %",
      expression: "IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)",
      usingMetrics: {
        requests: lbMetric("RequestCount"),
        target5xx: lbMetric("HTTPCode_Target_5XX_Count"),
        elb5xx: lbMetric("HTTPCode_ELB_5XX_Count"),
      },
      period: minute,
    }).createAlarm(this, "Api5xx", {
      alarmDescription: "More than 1% of API requests answered 5xx",
      threshold: props.max5xxPercent ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // The queue as operators need to read it: SQS's not-visible count mixes deliveries being worked on with
    // those waiting on purpose (a retry's backoff, a cap, a rate limit, an open circuit); the workers' in-flight
    // figure separates them.
    const tasks = new cloudwatch.Metric({
      namespace: "ECS/ContainerInsights",
      metricName: "RunningTaskCount",
      dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: props.workerService.serviceName },
      statistic: "Average",
      period: minute,
    });
    const inFlight = new cloudwatch.MathExpression({
      label: "Deliveries in flight (all tasks)",
      expression: "FILL(perTask, 0) * FILL(tasks, 0)",
      usingMetrics: { perTask: worker(emfMetrics.inFlight, "Average"), tasks },
      period: minute,
    });
    const parked = new cloudwatch.MathExpression({
      label: "Parked or held (waiting on purpose)",
      expression: "MAX([0, notVisible - inFlight])",
      usingMetrics: {
        notVisible: props.queue.metricApproximateNumberOfMessagesNotVisible({ period: minute }),
        inFlight,
      },
      period: minute,
    });
    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: "Delivery queue",
            left: [
              props.queue.metricApproximateNumberOfMessagesVisible({
                period: minute,
                label: "Visible (can start now)",
              }),
              inFlight,
              parked,
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: "Deliveries per minute",
            left: [
              worker(emfMetrics.delivered, "Sum"),
              worker(emfMetrics.failed, "Sum"),
              worker(emfMetrics.deadLettered, "Sum"),
              worker(emfMetrics.deferred, "Sum"),
            ],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: "Oldest overdue delivery (s)",
            left: [worker(emfMetrics.oldestOverdue, "Maximum")],
            width: 12,
          }),
          new cloudwatch.GraphWidget({ title: "Worker tasks", left: [tasks], width: 12 }),
        ],
      ],
    });
    // From the workers' EMF lines: the share of first attempts later than the SLO's line.
    const sloMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: emfNamespace,
        metricName,
        dimensionsMap: { [emfDimension]: props.deployment },
        statistic: "Sum",
        period: Duration.minutes(5),
      });
    const fastBurnPercent = 14.4 * (1 - firstAttemptSloTarget) * 100;
    this.firstAttemptSlo = new cloudwatch.MathExpression({
      label: "First attempts late %",
      expression: "IF(total > 0, 100 * FILL(late, 0) / total, 0)",
      usingMetrics: { total: sloMetric(emfMetrics.firstAttempts), late: sloMetric(emfMetrics.firstAttemptsLate) },
      period: Duration.minutes(5),
    }).createAlarm(this, "FirstAttemptSlo", {
      alarmDescription: `SLO: ${firstAttemptSloTarget * 100}% of first attempts within ${firstAttemptSloS} s of acceptance. Over ${fastBurnPercent.toFixed(1)}% were late for 15 minutes: the error budget burns 14.4x too fast`,
      threshold: Number(fastBurnPercent.toFixed(1)),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.deadLetters, this.overdue, this.api5xx, this.firstAttemptSlo])
      alarm.addAlarmAction(notify);

    // A worker task whose container exited on its own (crash, out of memory) rather than being scaled in or deployed.
    new events.Rule(this, "WorkerRestarts", {
      description: "A worker task stopped because its container exited",
      eventPattern: {
        source: ["aws.ecs"],
        detailType: ["ECS Task State Change"],
        detail: {
          clusterArn: [props.cluster.clusterArn],
          group: [`service:${props.workerService.serviceName}`],
          lastStatus: ["STOPPED"],
          stopCode: ["EssentialContainerExited"],
        },
      },
      targets: [new targets.SnsTopic(this.topic)],
    });
    // A task ECS replaced because it failed its health checks (the ALB's for the API; the container's for the worker:
    // a hung poller). Its container did not exit, so the rule above does not see it.
    new events.Rule(this, "HealthCheckReplacements", {
      description: "A task was stopped because it failed its load balancer or container health checks",
      eventPattern: {
        source: ["aws.ecs"],
        detailType: ["ECS Task State Change"],
        detail: {
          clusterArn: [props.cluster.clusterArn],
          group: [`service:${props.workerService.serviceName}`, `service:${props.apiService.serviceName}`],
          lastStatus: ["STOPPED"],
          stoppedReason: events.Match.anyOf(
            events.Match.prefix("Task failed ELB health checks"),
            events.Match.prefix("Task failed container health checks"),
          ),
        },
      },
      targets: [new targets.SnsTopic(this.topic)],
    });
  }
}
