/**
 * Our own deployments: a settings file (infra/config/<env>.json) made into a stack that holds the platform, as any
 * user's app holds it. Stacks deployed before the platform was a construct update in place (test/infra/deployment-stack).
 */
import { Aspects, AspectPriority, Duration, Stack, TagManager, type App, type IAspect } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as kms from "aws-cdk-lib/aws-kms";
import * as route53 from "aws-cdk-lib/aws-route53";
import * as sns from "aws-cdk-lib/aws-sns";
import type { IConstruct } from "constructs";
import type { Settings } from "./settings.ts";
import { WebhookPlatform } from "./webhook-platform.ts";

/**
 * The platform's id in our stacks. "Default" is left out of logical ids, so every resource keeps the id it had when the
 * platform was the stack itself; construct paths keep it, and `stackClassPaths` takes it out of what they name.
 */
const platformId = "Default";

export function deploymentStack(app: App, settings: Settings): Stack {
  const stack = new Stack(app, settings.stackName, {
    env: { account: settings.account, region: settings.region },
    // Your tags: CloudFormation puts a stack's tags on every resource it creates.
    tags: settings.tags,
  });
  const platform = new WebhookPlatform(stack, platformId, {
    domainName: settings.domainName,
    hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, "Zone", {
      hostedZoneId: settings.hostedZoneId,
      zoneName: settings.hostedZoneName,
    }),
    name: settings.stackName.toLowerCase(),
    image: settings.imageTag
      ? ecs.ContainerImage.fromEcrRepository(
          ecr.Repository.fromRepositoryName(stack, "Repository", settings.imageRepository ?? "webhook-platform"),
          settings.imageTag,
        )
      : undefined,
    cpuArchitecture: settings.cpuArchitecture,
    minWorkers: settings.minWorkers,
    maxWorkers: settings.maxWorkers,
    retrySchedule: settings.retrySchedule,
    deliveryTimeout: settings.deliveryTimeoutMs === undefined ? undefined : Duration.millis(settings.deliveryTimeoutMs),
    tracing: settings.tracing,
    traceSampleRatio: settings.traceSampleRatio,
    adminCidrs: settings.adminCidrs,
    waf: settings.waf,
    wafRateLimit: settings.wafRateLimit,
    alarmEmails: settings.alarmEmails,
    alarmTopic: settings.alarmTopicArn
      ? sns.Topic.fromTopicArn(stack, "ExistingAlarmTopic", settings.alarmTopicArn)
      : undefined,
    signingKey: settings.signingKeyArn
      ? kms.Key.fromKeyArn(stack, "SigningSecretsKey", settings.signingKeyArn)
      : undefined,
    eventsTableCapacity: settings.eventsTableCapacity,
    ecsExec: settings.ecsExec,
    destinationRolePattern: settings.destinationRolePattern,
  });
  // After the tags are applied (MUTATING), so it sees the Name tags they set.
  Aspects.of(platform).add(stackClassPaths(`${stack.node.path}/${platformId}/`, `${stack.node.path}/`), {
    priority: AspectPriority.MUTATING + 1,
  });
  return stack;
}

/**
 * What CDK writes from construct paths, as it was without the construct in the path: a security group's description
 * cannot change without replacing the group (and the tasks and endpoint using it), and the Name tags are what the
 * console shows.
 */
function stackClassPaths(from: string, to: string): IAspect {
  const rewrite = (path: string) => (path.startsWith(from) ? to + path.slice(from.length) : path);
  return {
    visit(node: IConstruct) {
      if (node instanceof ec2.CfnSecurityGroup) node.groupDescription = rewrite(node.groupDescription);
      const tags = TagManager.isTaggable(node)
        ? node.tags
        : TagManager.isTaggableV2(node)
          ? node.cdkTagManager
          : undefined;
      const name = tags?.tagValues().Name;
      if (name !== undefined && rewrite(name) !== name) tags?.setTag("Name", rewrite(name), 1000);
    },
  };
}
