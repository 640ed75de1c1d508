/** What pages an operator: anything in the DLQ, a stale queue, API 5xx, worker tasks dying, the first-attempt SLO burning. */
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
import { firstAttemptSloS, firstAttemptSloTarget, sloMetrics } from "../../services/core/delivery-figures.ts";

export interface AlarmsProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly cluster: ecs.ICluster;
  readonly workerService: ecs.FargateService;
  /** Older than this, the oldest message means deliveries are stuck (retries wait up to ~31 min by default). @default 45 min */
  readonly maxMessageAge?: Duration;
  /** @default 1 (%) */
  readonly max5xxPercent?: number;
}

export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly deadLetters: cloudwatch.Alarm;
  readonly oldestMessage: cloudwatch.Alarm;
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
    this.oldestMessage = props.queue
      .metricApproximateAgeOfOldestMessage({ period: minute, statistic: "Maximum" })
      .createAlarm(this, "OldestMessage", {
        alarmDescription: "The delivery queue holds a message older than the retry schedule allows",
        threshold: (props.maxMessageAge ?? Duration.minutes(45)).toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
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
    // From the workers' EMF lines (worker/delivery-figures.ts): the share of first attempts later than the SLO's line.
    const sloMetric = (metricName: string) =>
      new cloudwatch.Metric({ namespace: sloMetrics.namespace, metricName, dimensionsMap: { ...sloMetrics.dimensions }, statistic: "Sum", period: Duration.minutes(5) });
    const fastBurnPercent = 14.4 * (1 - firstAttemptSloTarget) * 100;
    this.firstAttemptSlo = new cloudwatch.MathExpression({
      label: "First attempts late %",
      expression: "IF(total > 0, 100 * FILL(late, 0) / total, 0)",
      usingMetrics: { total: sloMetric(sloMetrics.firstAttempts), late: sloMetric(sloMetrics.late) },
      period: Duration.minutes(5),
    }).createAlarm(this, "FirstAttemptSlo", {
      alarmDescription: `SLO: ${firstAttemptSloTarget * 100}% of first attempts within ${firstAttemptSloS} s of acceptance. Over ${fastBurnPercent.toFixed(1)}% were late for 15 minutes: the error budget burns 14.4x too fast`,
      threshold: Number(fastBurnPercent.toFixed(1)),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.deadLetters, this.oldestMessage, this.api5xx, this.firstAttemptSlo]) alarm.addAlarmAction(notify);

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
  }
}
