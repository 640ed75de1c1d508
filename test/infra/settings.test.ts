/**
 * Deployment settings live in committed files, infra/config/<env>.json: the app reads nothing else, refuses `-c`
 * flags, and refuses placeholders wherever a deploy could follow; `npm run deploy -- <env>` adopts kept tables.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  environments,
  loadSettings,
  placeholders,
  refusePlaceholders,
  settingsSchema,
  type Settings,
} from "../../infra/lib/settings.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "webhooks-settings-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const real: Settings = settingsSchema.parse({
  region: "eu-west-1",
  domainName: "hooks.acme-payments.io",
  hostedZoneId: "Z04512ABCDEF",
  hostedZoneName: "acme-payments.io",
  adminCidrs: ["81.2.69.0/24"],
  waf: true,
  alarmEmails: ["oncall@acme-payments.io"],
});

/** The CDK app run as `cdk` runs it, into a scratch directory; `account` as the CLI sets it when it has credentials. */
function synth(context: Record<string, string>, account?: string) {
  const outdir = mkdtempSync(join(scratch, "out-"));
  const env: Record<string, string | undefined> = {
    ...process.env,
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify(context),
    CDK_DEFAULT_ACCOUNT: account,
  };
  if (account === undefined) delete env.CDK_DEFAULT_ACCOUNT;
  const run = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "infra/bin/app.ts"], {
    cwd: root,
    env,
    encoding: "utf8",
  });
  return { status: run.status, stderr: run.stderr, outdir };
}

describe("settings files", () => {
  it("are all valid, and the example is the one an argument-less synth reads", () => {
    expect(environments()).toContain("example");
    for (const env of environments()) expect(() => loadSettings(env), env).not.toThrow();
  });

  it("synthesize the example offline (a clean clone, CI), under its stack name", () => {
    const run = synth({});
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(existsSync(join(run.outdir, "webhooks.template.json"))).toBe(true);
  }, 180_000);

  it("refuse the example's placeholders where AWS credentials are present, saying which", () => {
    const run = synth({}, "210987654321");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("infra/config/example.json holds placeholders");
    for (const key of ["domainName", "hostedZoneId", "adminCidrs", "alarmEmails"]) expect(run.stderr).toContain(key);
  }, 180_000);

  it("are the only settings: a -c flag that used to set one is refused, not silently dropped", () => {
    const run = synth({ waf: "false", adminCidrs: "10.0.0.0/8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("-c adminCidrs, -c waf: settings are read from infra/config/<env>.json only");
    expect(synth({ settings: "nope" }).stderr).toMatch(
      /no settings file infra\/config\/nope\.json \(there are: .*example/,
    );
  }, 180_000);

  it("find every kind of placeholder, and none in real values", () => {
    expect(placeholders(real)).toEqual([]);
    expect(() => refusePlaceholders("prod", real, "210987654321")).not.toThrow();
    const fake = settingsSchema.parse({
      ...real,
      account: "123456789012",
      domainName: "hooks.example.org",
      hostedZoneName: "example.org",
      hostedZoneId: "Z0000EXAMPLE",
      adminCidrs: ["198.51.100.0/24", "2001:DB8::/32", "81.2.69.0/24"],
      alarmEmails: ["ops@corp.test"],
      signingKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/abc",
    });
    expect(placeholders(fake).map((line) => line.split(" ")[0])).toEqual([
      "domainName",
      "hostedZoneName",
      "hostedZoneId",
      "adminCidrs",
      "adminCidrs",
      "alarmEmails",
      "account",
      "signingKeyArn",
    ]);
    expect(() => refusePlaceholders("prod", fake, undefined)).not.toThrow();
  });

  it("must say who gets alarms, which networks reach /admin and whether there is a WAF, and nothing unknown", () => {
    const issues = (input: Record<string, unknown>) =>
      settingsSchema.safeParse(input).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
    expect(issues({ ...real, alarmEmails: [] })).toEqual([
      "alarmEmails: alarmEmails or alarmTopicArn: alarms must reach someone",
    ]);
    expect(issues({ ...real, alarmEmails: [], alarmTopicArn: "arn:aws:sns:eu-west-1:210987654321:pager" })).toEqual([]);
    const withoutThem: Record<string, unknown> = { ...real };
    delete withoutThem.adminCidrs;
    delete withoutThem.waf;
    expect(issues(withoutThem).map((i) => i.split(":")[0])).toEqual(["adminCidrs", "waf"]);
    expect(issues({ ...real, wafEnabled: true })[0]).toMatch(/wafEnabled/);
    expect(issues({ ...real, signingKeyArn: "alias/hooks" })[0]).toMatch(/^signingKeyArn: an ARN of kms/);
  });

  it("are read from the directory given, each checked", () => {
    const dir = join(scratch, "config");
    mkdirSync(dir);
    writeFileSync(join(dir, "prod.json"), JSON.stringify({ ...real, minWorkers: "two" }));
    expect(() => loadSettings("prod", pathToFileURL(`${dir}/`))).toThrow(/prod\.json:\n {2}minWorkers: /);
    writeFileSync(join(dir, "prod.json"), JSON.stringify(real));
    expect(loadSettings("prod", pathToFileURL(`${dir}/`))).toEqual(real);
    expect(() => loadSettings("../etc/passwd", pathToFileURL(`${dir}/`))).toThrow(/letters, digits/);
  });
});

describe("npm run deploy -- <env>", () => {
  /** The deploy script with a stand-in `cdk` first on PATH that writes down the arguments it was given. */
  function deploy(args: string[]) {
    const bin = mkdtempSync(join(scratch, "bin-"));
    const argsFile = join(bin, "args");
    writeFileSync(join(bin, "cdk"), `#!/bin/sh\nprintf '%s\\n' "$@" > ${argsFile}\n`);
    chmodSync(join(bin, "cdk"), 0o755);
    const run = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "infra/bin/deploy.ts", ...args], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
      encoding: "utf8",
    });
    return { ...run, cdkArgs: existsSync(argsFile) ? readFileSync(argsFile, "utf8").trim().split("\n") : undefined };
  }

  it("runs cdk deploy with that settings file and adopts the tables a rollback or a deleted stack kept", () => {
    const run = deploy(["example", "--require-approval", "never"]);
    expect(run.status).toBe(0);
    expect(run.cdkArgs).toEqual([
      "deploy",
      "-c",
      "settings=example",
      "--import-existing-resources",
      "--require-approval",
      "never",
    ]);
  });

  it("names the settings files when none or an unknown one is given, and runs nothing", () => {
    const none = deploy([]);
    expect([none.status, none.cdkArgs]).toEqual([2, undefined]);
    expect(none.stderr).toMatch(/usage: npm run deploy -- <env> .*one of: .*example/);
    const unknown = deploy(["prod"]);
    expect([unknown.status, unknown.cdkArgs]).toEqual([1, undefined]);
    expect(unknown.stderr).toContain("no settings file infra/config/prod.json");
  });
});
