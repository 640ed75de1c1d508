/** The deliveries queue and its dead-letter queue. */
import { Duration } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { minVisibilityTimeoutS, redriveMaxReceiveCount } from "../../services/core/timing.ts";

export interface DeliveryQueuesProps {
  /** Attempts per delivery (retry schedule entries + 1). */
  readonly maxAttempts: number;
  /** The worker's whole-request timeout of one attempt. */
  readonly deliveryTimeout: Duration;
  /** @default deliveryTimeout + 30 s */
  readonly visibilityTimeout?: Duration;
}

export class DeliveryQueues extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly visibilityTimeout: Duration;
  /** How long the DLQ keeps a message: an operator has this long to requeue or look at it. */
  readonly deadLetterRetention = Duration.days(14);

  constructor(scope: Construct, id: string, props: DeliveryQueuesProps) {
    super(scope, id);
    this.visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(props.deliveryTimeout.toSeconds() + 30);
    // A lease, the POST and its bookkeeping must end before SQS hands the message to another worker.
    const least = minVisibilityTimeoutS(props.deliveryTimeout.toMilliseconds());
    if (this.visibilityTimeout.toSeconds() < least)
      throw new Error(`visibilityTimeout must be at least ${least} s for this deliveryTimeout (its lease)`);
    // The DLQ keeps messages longer than the source queue, so nothing expires on its way to an operator.
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      retentionPeriod: this.deadLetterRetention,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, "Queue", {
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: redriveMaxReceiveCount(props.maxAttempts) },
    });
  }
}
