/**
 * The CDK app: `npm run deploy -- <env>`, or `npm run cdk -- synth|diff -c settings=<env>`. Configured only by
 * `infra/config/<env>.json` (infra/lib/settings.ts); without `-c settings` it synthesizes the example, offline.
 */
import { App, Duration } from "aws-cdk-lib";
import { fileURLToPath } from "node:url";
import {
  exampleSettings,
  loadSettings,
  refusePlaceholders,
  settingKeys,
  SettingsError,
  type Settings,
} from "../lib/settings.ts";
import { WebhookPlatformStack } from "../lib/webhook-platform-stack.ts";

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

new WebhookPlatformStack(app, settings.stackName, {
  domainName: settings.domainName,
  hostedZoneId: settings.hostedZoneId,
  hostedZoneName: settings.hostedZoneName,
  imageTag: settings.imageTag,
  imageRepository: settings.imageRepository,
  imageDirectory: fileURLToPath(new URL("../..", import.meta.url)),
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
  alarmTopicArn: settings.alarmTopicArn,
  signingKeyArn: settings.signingKeyArn,
  ecsExec: settings.ecsExec,
  eventsTableCapacity: settings.eventsTableCapacity,
  tags: settings.tags,
  env: { account: settings.account, region: settings.region },
});
