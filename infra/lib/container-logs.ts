/** How a container's stdout reaches CloudWatch Logs: the awslogs driver, never blocking the process. */
import { Size } from "aws-cdk-lib";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";

/**
 * Non-blocking with a 25 MiB buffer, set here rather than left to the account's default mode: Node writes stdout to
 * a pipe synchronously on Linux, so in blocking mode a slow or throttled CloudWatch Logs would stall the event loop,
 * every delivery with it. The buffer holds minutes of our lines; only a longer outage drops some, and the EMF lines
 * among them (the scaling metric) then leave gaps that the policy's FILL reads as "no data", not as a stall.
 */
export const logBufferMiB = 25;

export function containerLogs(
  scope: Construct,
  streamPrefix: string,
  retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
): ecs.LogDriver {
  return ecs.LogDrivers.awsLogs({
    streamPrefix,
    logGroup: new logs.LogGroup(scope, "Logs", { retention }),
    mode: ecs.AwsLogDriverMode.NON_BLOCKING,
    maxBufferSize: Size.mebibytes(logBufferMiB),
  });
}
