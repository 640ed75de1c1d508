/**
 * What pages an operator (a share of deliveries dying, dead letters about to expire, deliveries overdue with nobody
 * working on them, API 5xx, worker tasks dying, the first-attempt SLO burning), where it goes, and a dashboard of the
 * queue split into what is being worked on and what waits on purpose.
 */
import { Annotations, Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { firstAttemptSloS, firstAttemptSloTarget } from "../../services/core/delivery-figures.ts";
import { emfDimension, emfMetrics, emfNamespace } from "../../services/worker/cloudwatch-metrics.ts";

export interface AlarmsProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** How long the DLQ keeps a message (its retention period). */
  readonly deadLetterRetention: Duration;
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
  /**
   * The share of settled deliveries that may go to the DLQ (deliveries that died ÷ those delivered or dead, from the
   * workers' figures) for half an hour before it pages. @default 5 (%)
   */
  readonly maxDeadLetteredPercent?: number;
  /** How long before the DLQ's oldest message expires it pages. @default Duration.days(2) */
  readonly deadLetterExpiryWarning?: Duration;
  /**
   * Where alarms and the task-event rules go: your topic (a pager, AWS Chatbot, a mailing list). Its access policy
   * must let events.amazonaws.com publish (CloudWatch alarms of the same account may by default).
   * @default a topic of the stack's own
   */
  readonly topic?: sns.ITopic;
  /** Addresses subscribed to the stack's own topic (each confirms the subscription AWS mails it). @default [] */
  readonly emails?: readonly string[];
}

export class Alarms extends Construct {
  readonly topic: sns.ITopic;
  /** A share of deliveries dead-lettered: endpoints down or refusing, for a real part of the traffic. */
  readonly deadLettered: cloudwatch.Alarm;
  /** Dead letters close to the end of the DLQ's retention: requeue or inspect them before SQS drops them. */
  readonly deadLettersExpiring: cloudwatch.Alarm;
  readonly overdue: cloudwatch.Alarm;
  readonly dashboard: cloudwatch.Dashboard;
  readonly api5xx: cloudwatch.Alarm;
  /** The first-attempt SLO's error budget burning 14.4 times too fast (it would last about two days). */
  readonly firstAttemptSlo: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const emails = props.emails ?? [];
    if (props.topic && emails.length > 0)
      throw new Error("alarm emails subscribe to the stack's own topic: with your own topic, subscribe them to it");
    const badEmail = emails.find((e) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e));
    if (badEmail !== undefined) throw new Error(`alarm emails: not an address: ${badEmail}`);
    this.topic = props.topic ?? new sns.Topic(this, "Topic", { displayName: "Webhook platform alarms" });
    if (!props.topic && emails.length === 0) {
      Annotations.of(this).addWarningV2(
        "webhooks:alarms-reach-nobody",
        "No alarm emails and no alarm topic: alarms go to a topic nobody is subscribed to",
      );
    }
    for (const email of emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    const notify = new actions.SnsAction(this.topic);
    const minute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);

    // Not "anything in the DLQ": once one customer's endpoint has been down for the retry schedule, that alarm stays
    // on for the 14 days its dead letters are kept and hides everything after it. The share of deliveries dying is
    // back to OK when they stop dying, and a big share means much more than one endpoint.
    const figure = (metricName: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: emfNamespace,
        metricName,
        dimensionsMap: { [emfDimension]: props.deployment },
        statistic: "Sum",
        period,
      });
    this.deadLettered = new cloudwatch.MathExpression({
      label: "Deliveries dead-lettered %",
      expression: deadLetteredPercentExpression,
      usingMetrics: {
        delivered: figure(emfMetrics.delivered, fiveMinutes),
        dead: figure(emfMetrics.deadLettered, fiveMinutes),
      },
      period: fiveMinutes,
    }).createAlarm(this, "DeadLettered", {
      alarmDescription: `More than ${props.maxDeadLetteredPercent ?? 5}% of settled deliveries went to the dead-letter queue for 30 minutes: GET /admin/dlq shows which endpoints`,
      threshold: props.maxDeadLetteredPercent ?? 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 6,
      datapointsToAlarm: 6,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const warning = props.deadLetterExpiryWarning ?? Duration.days(2);
    const expiresAfter = props.deadLetterRetention.toSeconds() - warning.toSeconds();
    if (expiresAfter <= 0) throw new Error("deadLetterExpiryWarning must be shorter than the DLQ's retention");
    this.deadLettersExpiring = props.deadLetterQueue
      .metricApproximateAgeOfOldestMessage({ period: Duration.minutes(15), statistic: "Maximum" })
      .createAlarm(this, "DeadLettersExpiring", {
        alarmDescription: `The dead-letter queue's oldest message expires in less than ${warning.toHumanString()}: requeue it (POST /admin/dlq/requeue) or let it go`,
        threshold: expiresAfter,
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
    const fastBurnPercent = 14.4 * (1 - firstAttemptSloTarget) * 100;
    this.firstAttemptSlo = new cloudwatch.MathExpression({
      label: "First attempts late %",
      expression: "IF(total > 0, 100 * FILL(late, 0) / total, 0)",
      usingMetrics: {
        total: figure(emfMetrics.firstAttempts, fiveMinutes),
        late: figure(emfMetrics.firstAttemptsLate, fiveMinutes),
      },
      period: fiveMinutes,
    }).createAlarm(this, "FirstAttemptSlo", {
      alarmDescription: `SLO: ${firstAttemptSloTarget * 100}% of first attempts within ${firstAttemptSloS} s of acceptance. Over ${fastBurnPercent.toFixed(1)}% were late for 15 minutes: the error budget burns 14.4x too fast`,
      threshold: Number(fastBurnPercent.toFixed(1)),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.deadLettered, this.deadLettersExpiring, this.overdue, this.api5xx, this.firstAttemptSlo])
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

/** The share of settled deliveries (delivered or dead) that died in the period; no deliveries, no share. */
export const deadLetteredPercentExpression =
  "IF(FILL(delivered, 0) + FILL(dead, 0) > 0, 100 * FILL(dead, 0) / (FILL(delivered, 0) + FILL(dead, 0)), 0)";
