/**
 * A deployment's settings: one committed file per environment, `infra/config/<env>.json`, the only thing the CDK app
 * reads (no `-c` flags, so a deploy cannot silently drop one). Placeholders pass only an offline synth.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { parseSchedule } from "../../services/core/retry-policy.ts";

/** Where the settings files are. */
export const settingsDir = new URL("../config/", import.meta.url);

/** The settings file an argument-less `cdk synth` reads: placeholders, so a clean clone synthesizes offline. */
export const exampleSettings = "example";

const arn = (service: string, resource: RegExp) =>
  z.string().refine((s) => new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:${resource.source}$`).test(s), {
    error: `an ARN of ${service} (arn:aws:${service}:<region>:<account>:…)`,
  });

export const settingsSchema = z
  .strictObject({
    /** The CloudFormation stack; lower-cased, also the tables' prefix and the metrics' deployment. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, "letters, digits and '-', starting with a letter")
      .default("webhooks"),
    /** Pinned, so a deploy never follows whatever region a shell's profile names. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as us-east-1"),
    /** When set, `cdk` refuses credentials of another account. */
    account: z
      .string()
      .regex(/^\d{12}$/, "12 digits")
      .optional(),
    domainName: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, "a DNS name such as webhooks.example.com"),
    /** A public Route 53 hosted zone in the same account that holds domainName. */
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, "a Route 53 zone id such as Z0123456789ABC"),
    hostedZoneName: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, "the zone's DNS name such as example.com"),
    /** Networks that may reach /admin, /console and /metrics; [] closes them. Required: forgetting it is not "open". */
    adminCidrs: z.array(z.string()),
    /** Required for the same reason: leaving the WAF out is a decision, not an omission. */
    waf: z.boolean(),
    wafRateLimit: z.number().int().min(100).optional(),
    alarmEmails: z.array(z.email()).default([]),
    alarmTopicArn: arn("sns", /[\w-]+/).optional(),
    signingKeyArn: arn("kms", /key\/[\w-]+/).optional(),
    /** `<imageRepository>:<imageTag>` in ECR instead of building the Dockerfile. */
    imageTag: z.string().min(1).optional(),
    imageRepository: z.string().min(1).optional(),
    cpuArchitecture: z.enum(["x86_64", "arm64"]).default("x86_64"),
    minWorkers: z.number().int().min(1).default(2),
    maxWorkers: z.number().int().min(1).default(10),
    retrySchedule: z
      .string()
      .refine((s) => parseSchedule(s) !== undefined, "a comma list of durations such as 1m,2m,4m")
      .optional(),
    deliveryTimeoutMs: z.number().int().min(1000).optional(),
    tracing: z.boolean().default(false),
    traceSampleRatio: z.number().min(0).max(1).optional(),
    ecsExec: z.boolean().default(false),
    /** Customer roles the worker may assume for AWS destinations (IAM's `*` wildcard). */
    destinationRolePattern: z
      .string()
      .regex(/^arn:[a-z*-]+:iam::[0-9*]*:role\/\S+$/, "a role ARN pattern such as arn:aws:iam::*:role/webhooks-*")
      .optional(),
    /** Provisioned capacity for the events table instead of on demand (README, Costs). */
    eventsTableCapacity: z
      .strictObject({
        minWriteUnits: z.number().int().min(1),
        maxWriteUnits: z.number().int().min(1),
        minReadUnits: z.number().int().min(1),
        maxReadUnits: z.number().int().min(1),
      })
      .optional(),
    /** Your tags on every resource (cost allocation: activate their keys in Billing). */
    tags: z.record(z.string(), z.string()).default({}),
  })
  .refine((s) => s.alarmEmails.length > 0 || s.alarmTopicArn !== undefined, {
    error: "alarmEmails or alarmTopicArn: alarms must reach someone",
    path: ["alarmEmails"],
  });

export type Settings = z.infer<typeof settingsSchema>;

/** The keys a settings file has: the app refuses them as `-c` flags, which it never reads. */
export const settingKeys: readonly string[] = Object.keys(settingsSchema.shape);

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

/** The environments that have a settings file. */
export function environments(dir: URL = settingsDir): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

/** Reads and checks `<dir>/<env>.json`. */
export function loadSettings(env: string, dir: URL = settingsDir): Settings {
  if (!/^[\w-]+$/.test(env)) throw new SettingsError(`settings name '${env}': letters, digits, '_' and '-' only`);
  if (!environments(dir).includes(env)) {
    throw new SettingsError(
      `no settings file infra/config/${env}.json (there are: ${environments(dir).join(", ")}); copy infra/config/example.json`,
    );
  }
  const file = join(dir.pathname, `${env}.json`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new SettingsError(`infra/config/${env}.json is not JSON: ${(err as Error).message}`);
  }
  const parsed = settingsSchema.safeParse(json);
  if (!parsed.success) {
    throw new SettingsError(
      `infra/config/${env}.json:\n  ${parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("\n  ")}`,
    );
  }
  return parsed.data;
}

/** Reserved for documentation and examples (RFC 2606, 5737, 3849; AWS's own example account ids). */
const exampleDomain = /(^|\.)(example\.(com|org|net)|example|test|invalid|localhost)$/;
const exampleNetwork = /^(192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|2001:db8:)/i;
const exampleAccount = /(^|:)(123456789012|111122223333|000000000000)(:|$)/;

/** The settings that are placeholders, each as a line saying which and why. */
export function placeholders(s: Settings): string[] {
  const found: string[] = [];
  for (const [key, value] of [
    ["domainName", s.domainName],
    ["hostedZoneName", s.hostedZoneName],
  ] as const) {
    if (exampleDomain.test(value)) found.push(`${key} ${value} is a reserved example name`);
  }
  if (/EXAMPLE/.test(s.hostedZoneId)) found.push(`hostedZoneId ${s.hostedZoneId} is an example id`);
  for (const cidr of s.adminCidrs)
    if (exampleNetwork.test(cidr)) found.push(`adminCidrs ${cidr} is a documentation network`);
  for (const email of s.alarmEmails)
    if (exampleDomain.test(email.split("@")[1] ?? "")) found.push(`alarmEmails ${email} is at an example domain`);
  for (const [key, value] of [
    ["account", s.account],
    ["alarmTopicArn", s.alarmTopicArn],
    ["signingKeyArn", s.signingKeyArn],
  ] as const) {
    if (value !== undefined && exampleAccount.test(value)) found.push(`${key} ${value} names an example account`);
  }
  return found;
}

/**
 * Refuses placeholders unless the synth is offline: the CDK CLI sets CDK_DEFAULT_ACCOUNT whenever it has credentials,
 * which every deploy has. A synth on a clean clone (CI, a first look) has none and may show the example.
 */
export function refusePlaceholders(env: string, s: Settings, account: string | undefined): void {
  const found = placeholders(s);
  if (found.length === 0 || account === undefined) return;
  throw new SettingsError(
    `infra/config/${env}.json holds placeholders, refused where AWS credentials are present (a deploy could follow):\n  ` +
      `${found.join("\n  ")}\nPut your own values in infra/config/<env>.json (README, Deploy to AWS).`,
  );
}
