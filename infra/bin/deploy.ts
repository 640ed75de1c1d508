/**
 * `npm run deploy -- <env> [cdk deploy options]`: `cdk deploy` with infra/config/<env>.json, checked before anything
 * is built, and `--import-existing-resources`, so a deploy that meets the tables a failed first deploy or a deleted
 * stack kept (named, retained, protected) takes them back instead of failing on "already exists".
 */
import { spawnSync } from "node:child_process";
import { environments, loadSettings, SettingsError } from "../lib/settings.ts";

export const deployFlags = ["--import-existing-resources"] as const;

const [env, ...rest] = process.argv.slice(2);
if (env === undefined || env.startsWith("-")) {
  process.stderr.write(
    `usage: npm run deploy -- <env> [cdk deploy options]; <env> is one of: ${environments().join(", ")}\n`,
  );
  process.exit(2);
}
try {
  loadSettings(env);
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
const run = spawnSync("cdk", ["deploy", "-c", `settings=${env}`, ...deployFlags, ...rest], { stdio: "inherit" });
if (run.error) throw run.error;
process.exit(run.status ?? 1);
