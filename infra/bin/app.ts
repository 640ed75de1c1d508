/**
 * The CDK app: `npm run deploy -- <env>`, or `npm run cdk -- synth|diff -c settings=<env>`. Configured only by
 * `infra/config/<env>.json` (infra/lib/settings.ts); without `-c settings` it synthesizes the example, offline.
 */
import { App, Duration, Stack } from "aws-cdk-lib";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as kms from "aws-cdk-lib/aws-kms";
import * as route53 from "aws-cdk-lib/aws-route53";
import * as sns from "aws-cdk-lib/aws-sns";
import {
  exampleSettings,
  loadSettings,
  refusePlaceholders,
  settingKeys,
  SettingsError,
  type Settings,
} from "../lib/settings.ts";
import { WebhookPlatform } from "../lib/webhook-platform.ts";

const app = new App();
/** The settings file's name and contents; a problem with them is one message, not a stack trace. */
function settingsOf(): { env: string; settings: Settings } {
  try {
    const flags = settingKeys.filter((key) => app.node.tryGetContext(key) !== undefined);
    if (flags.length > 0) {
      throw new SettingsError(
        `-c ${flags.join(", -c ")}: settings are read from infra/config/<env>.json only (choose it with -c settings=<env>)`,
      );
    }
    const env = String(app.node.tryGetContext("settings") ?? exampleSettings);
    const settings = loadSettings(env);
    refusePlaceholders(env, settings, process.env.CDK_DEFAULT_ACCOUNT);
    return { env, settings };
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
const { settings } = settingsOf();

const stack = new Stack(app, settings.stackName, {
  env: { account: settings.account, region: settings.region },
  // Your tags: CloudFormation puts a stack's tags on every resource it creates.
  tags: settings.tags,
});
const image = settings.imageTag
  ? ecs.ContainerImage.fromEcrRepository(
      ecr.Repository.fromRepositoryName(stack, "Repository", settings.imageRepository ?? "webhook-platform"),
      settings.imageTag,
    )
  : undefined;
// The id "Default" leaves the construct out of every logical id: the resources keep the ids they had when this app
// was one stack class, so a deployed stack updates in place rather than replacing its tables and addresses.
new WebhookPlatform(stack, "Default", {
  domainName: settings.domainName,
  hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, "Zone", {
    hostedZoneId: settings.hostedZoneId,
    zoneName: settings.hostedZoneName,
  }),
  name: settings.stackName.toLowerCase(),
  image,
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
});
