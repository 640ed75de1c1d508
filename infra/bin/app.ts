/**
 * The CDK app: `npm run deploy -- <env>`, or `npm run cdk -- synth|diff -c settings=<env>`. Configured only by
 * `infra/config/<env>.json` (infra/lib/settings.ts); without `-c settings` it synthesizes the example, offline.
 */
import { App } from "aws-cdk-lib";
import { deploymentStack } from "../lib/deployment-stack.ts";
import {
  exampleSettings,
  loadSettings,
  refusePlaceholders,
  settingKeys,
  SettingsError,
  type Settings,
} from "../lib/settings.ts";

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

deploymentStack(app, settings);
