/** The one schema over the environment; nothing else reads process.env. Parsed once by each main.ts. */
import { z } from "zod";
import { defaultTargetPorts } from "./core/endpoint-url.ts";
import { defaultSchedule, durationSchema, parseSchedule } from "./core/retry-policy.ts";
import { maxRotationGraceMs } from "./core/tenant.ts";
import { leaseMs } from "./core/timing.ts";

const url = z.url({ protocol: /^https?$/ });
const port = z.coerce.number().int().min(0).max(65535);
/** A duration such as `30s`, `5m`, `24h`, `14d`, in milliseconds. */
const duration = (fallback: string) => z.string().default(fallback).pipe(durationSchema(fallback));

const schema = z
  .object({
    PORT: port.default(3000),
    /** At least 32 characters: portal session keys derive from it (core/portal-token.ts), so it is a signing key too. */
    ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    AWS_REGION: z.string().min(1).default("us-east-1"),
    AWS_ENDPOINT_URL: url.optional(),
    AWS_ENDPOINT_URL_DYNAMODB: url.optional(),
    AWS_ENDPOINT_URL_SQS: url.optional(),
    AWS_ENDPOINT_URL_KMS: url.optional(),
    /** The KMS key whose data keys seal endpoint signing secrets at rest (a deployment). */
    SECRETS_KMS_KEY_ID: z.string().min(1).optional(),
    /** A file of 32 random bytes that seals them instead (npm start, docker compose, the tests). */
    SECRETS_KEY_FILE: z.string().min(1).optional(),
    TABLE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,200}$/, "letters, digits, '_', '-', '.'")
      .default("webhooks"),
    /** A queue name (resolved with GetQueueUrl) or a full queue URL. */
    DELIVERY_QUEUE: z.string().min(1).default("webhooks-deliveries"),
    DEAD_LETTER_QUEUE: z.string().min(1).default("webhooks-deliveries-dlq"),
    RETRY_SCHEDULE: z
      .string()
      .default(defaultSchedule)
      .transform((s, ctx) => parseSchedule(s) ?? (ctx.addIssue("a comma list of durations such as 1m,2m,4m"), z.NEVER)),
    DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(900_000).default(30_000),
    VISIBILITY_TIMEOUT_S: z.coerce.number().int().min(5).max(43_200).default(60),
    /** The worker writes its figures for CloudWatch as Embedded Metric Format lines on stdout (the CDK stack sets it). */
    CLOUDWATCH_EMF: z.stringbool().default(false),
    /** The worker's Prometheus port (GET /metrics). */
    METRICS_PORT: port.default(9464),
    /** Long-poll length; shorter means a quicker drain on stop, more empty receives when idle. */
    SQS_WAIT_TIME_S: z.coerce.number().int().min(0).max(20).default(20),
    /** Deliveries in flight per worker: each waits on its receiver, so this is mostly memory and sockets. */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(5000).default(500),
    /** Event bodies held in memory at once per worker; a delivery waits until its body fits. */
    WORKER_MAX_BYTES_IN_FLIGHT: z.coerce
      .number()
      .int()
      .min(358_400)
      .default(64 * 1024 * 1024),
    /** One tenant's deliveries in flight per worker at most, so others always find room. */
    TENANT_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(5000).default(100),
    /** One endpoint's deliveries in flight per worker at most, unless the endpoint sets its own `max_in_flight`. */
    ENDPOINT_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).default(50),
    /** Failed attempts in a row (timeouts, connection errors, 5xx, 429) that open an endpoint's circuit. */
    BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(20),
    /** The first wait of an open circuit before one probe goes (it doubles after each failed probe, to 10 min). */
    BREAKER_COOLDOWN: duration("30s"),
    /** Turns the outbound address guard off: only for services on local emulators (checked below). */
    ALLOW_PRIVATE_TARGETS: z.stringbool().default(false),
    /** Ports a public endpoint may use besides 443 (where private targets are allowed, any port is). */
    ALLOWED_TARGET_PORTS: z
      .string()
      .default(defaultTargetPorts.join(","))
      .transform((s, ctx) => {
        const ports = s.split(",").map((p) => Number(p.trim()));
        if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
          return (ctx.addIssue("a comma list of ports such as 443,8443"), z.NEVER);
        return [...new Set([443, ...ports])];
      }),
    /**
     * AWS destinations (endpoints of type aws_sqs, aws_sns, aws_eventbridge, aws_kinesis): the ARN customers trust in
     * their role's trust policy, i.e. the worker's task role (the CDK stack sets it). Unset, AWS destinations are refused.
     */
    DESTINATION_PRINCIPAL_ARN: z
      .string()
      .regex(/^arn:aws(-cn|-us-gov)?:(iam|sts)::\d{12}:[\w+=,.@/-]+$/, "an IAM role ARN")
      .optional(),
    /** Role ARNs an AWS destination may name, `*` a wildcard: the CDK stack sets its IAM policy's pattern. */
    DESTINATION_ROLE_PATTERN: z.string().min(1).optional(),
    /** Regions an AWS destination may be in, comma-separated (empty: any). */
    DESTINATION_REGIONS: z
      .string()
      .default("")
      .transform((s) =>
        s
          .split(",")
          .map((r) => r.trim())
          .filter(Boolean),
      ),
    /** The platform's own AWS account: refused as a destination's target or role (the CDK stack sets it). */
    PLATFORM_ACCOUNT_ID: z
      .string()
      .regex(/^\d{12}$/, "12 digits")
      .optional(),
    /**
     * Only on local emulators: STS and the destinations' services are called here (one endpoint for all, as moto and
     * the local stack serve them), and SQS queue URLs on loopback are taken as targets.
     */
    AWS_ENDPOINT_URL_DESTINATIONS: url.optional(),
    /**
     * false only with AWS_ENDPOINT_URL_DESTINATIONS, on an emulator without STS (the local stack's fauxqs): the worker
     * calls the destinations with its own credentials. On AWS it always assumes the customer's role.
     */
    DESTINATION_ASSUME_ROLE: z.stringbool().default(true),
    /** Source of the events put on a customer's EventBridge bus. */
    EVENTBRIDGE_SOURCE: z
      .string()
      .regex(/^(?!aws\.)[A-Za-z0-9._-]{1,256}$/, "letters, digits, '.', '_', '-'; not starting with aws.")
      .default("webhooks"),
    /** At most 350 KiB: the event item (body + deliveries map) must stay under DynamoDB's 400 KB item limit. */
    MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1024).max(358_400).default(262_144),
    /** Per-tenant ingestion limit on each API task: sustained events/s and the burst above it. */
    INGEST_RATE_PER_S: z.coerce.number().positive().default(200),
    INGEST_BURST: z.coerce.number().int().min(1).default(400),
    /** Per-tenant limit on each API task on everything else a tenant does that writes or requeues (retry, recover, rotation, endpoint writes). */
    TENANT_ACTION_RATE_PER_S: z.coerce.number().positive().default(2),
    TENANT_ACTION_BURST: z.coerce.number().int().min(1).default(20),
    /** Per-tenant limit on each API task on /v1 reads (GET and HEAD, a key's and its portal sessions' together). */
    TENANT_READ_RATE_PER_S: z.coerce.number().positive().default(20),
    TENANT_READ_BURST: z.coerce.number().int().min(1).default(100),
    /** Deepest JSON nesting an event may have. */
    MAX_JSON_DEPTH: z.coerce.number().int().min(1).max(1000).default(64),
    /** A client must send its headers within this, and its whole request within REQUEST_TIMEOUT_MS. */
    HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
    AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
    /** Failed authentications per client address per minute, per API task, before 429 (no lookup is made then). */
    AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).default(20),
    /**
     * Proxies in front of the API that append to X-Forwarded-For; the client's address is read behind them. 0 (no
     * proxy: the socket's address) unless set: the CDK stack sets 1 (its ALB). Set more than there are, and a client
     * chooses its own address with X-Forwarded-For (and so escapes AUTH_FAILURE_LIMIT).
     */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    RETENTION_DELIVERED: duration("30d"),
    RETENTION_DEAD: duration("14d"),
    /** An endpoint failing without a single success for this long is disabled. */
    ENDPOINT_DISABLE_AFTER: duration("5d"),
    /** Default grace period of a secret rotation (overridable per call); at most 7 days, like a call's. */
    ROTATION_GRACE: duration("24h").refine((ms) => ms <= maxRotationGraceMs, "at most 7d"),
    /** Messages per second a DLQ requeue moves at most. */
    DLQ_REQUEUE_RATE: z.coerce.number().positive().max(10_000).default(100),
    /** The operator console's built files (`npm run build:console`), served at /console; the tenant portal beside it. */
    CONSOLE_DIR: z.string().min(1).default("dist/console"),
    /** The API's public origin, for the links it mints (portal sessions); unset, the request's own scheme and host. */
    PUBLIC_URL: url.optional(),
    /**
     * Who may show the tenant portal (/portal) in a frame: origins such as https://app.example.com (a `*.` subdomain
     * wildcard allowed), space- or comma-separated, for CSP frame-ancestors. Unset, only the API's own origin may.
     */
    PORTAL_FRAME_ANCESTORS: z
      .string()
      .default("")
      .transform((s, ctx) => {
        const origins = s.split(/[\s,]+/).filter(Boolean);
        const bad = origins.filter((o) => !/^https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$/.test(o));
        return bad.length
          ? (ctx.addIssue(`origins such as https://app.example.com, not ${bad.join(", ")}`), z.NEVER)
          : origins;
      }),
    /**
     * Tracing is on when this is set: spans go to this OTLP/HTTP collector (JSON), e.g. http://127.0.0.1:4318. The
     * SDK itself reads OpenTelemetry's other standard variables (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, _HEADERS,
     * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES): they are the standard's, so they are not repeated here.
     */
    OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
    /** The share of events traced (parentbased_traceidratio; the API's own coin decides even for a client's traceparent). */
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
    SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
    SWEEP_GRACE_MS: z.coerce.number().int().min(0).default(300_000),
    /** The local stack only (`npm start`, `npm run emulators`). */
    LOCAL_DATA_DIR: z.string().min(1).default(".data"),
    LOCAL_DYNAMODB_PORT: port.default(8000),
    LOCAL_SQS_PORT: port.default(9324),
    /** Where the local stack's DynamoDB listens: loopback, or every address in compose's emulator container. */
    LOCAL_BIND_ADDRESS: z.union([z.ipv4(), z.ipv6()]).default("127.0.0.1"),
    /** The demo tenant that `bootstrap` seeds (docker compose); all four or none. */
    DEMO_TENANT_ID: z
      .string()
      .regex(/^ten_[A-Za-z0-9]{26}$/)
      .optional(),
    DEMO_API_KEY: z
      .string()
      .regex(/^whk_[A-Za-z0-9]+_[A-Za-z0-9_-]{16,}$/)
      .optional(),
    DEMO_ENDPOINT_SECRET: z
      .string()
      .regex(/^whsec_/)
      .optional(),
    DEMO_ENDPOINT_URL: url.optional(),
    /** Where the admin CLI finds the API. */
    API_URL: url.default("http://127.0.0.1:3000"),
    /** The demo receiver (`npm run receiver`, the container's `receiver` role). */
    RECEIVER_PORT: port.default(3001),
    RECEIVER_SECRETS: z
      .string()
      .default("")
      .transform((s) =>
        s
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean),
      ),
  })
  .superRefine((c, ctx) => {
    // The lease, the POST and the bookkeeping must end before SQS would hand the message to another worker.
    if (leaseMs(c.DELIVERY_TIMEOUT_MS) > c.VISIBILITY_TIMEOUT_S * 1000) {
      ctx.addIssue({
        code: "custom",
        path: ["DELIVERY_TIMEOUT_MS"],
        message: `must be at least 5 s below VISIBILITY_TIMEOUT_S (${c.VISIBILITY_TIMEOUT_S} s)`,
      });
    }
  });

export type Config = z.infer<typeof schema>;

/** Defaults the CDK stack reasons with (task sizing, the scaling target), from the schema itself. */
export const workerDefaults = { concurrency: schema.shape.WORKER_CONCURRENCY.parse(undefined) } as const;

/** Every variable the services read (for checks that deployment files set only real ones). */
export const configVariables: readonly string[] = Object.keys(schema.shape);
export type Role = "api" | "worker" | "local" | "cli" | "receiver" | "bootstrap";

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

export function parseConfig(env: Readonly<Record<string, string | undefined>>, role: Role): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".") || "environment"}: ${i.message}`));
  }
  const config = parsed.data;
  if ((role === "api" || role === "cli") && !config.ADMIN_TOKEN)
    throw new ConfigError([`ADMIN_TOKEN: required for the ${role}`]);
  // Whoever writes or reads signing secrets: the services, and the bootstrap when it seeds the demo tenant.
  const seals = role === "api" || role === "worker" || (role === "bootstrap" && config.DEMO_TENANT_ID !== undefined);
  if (seals && (config.SECRETS_KMS_KEY_ID === undefined) === (config.SECRETS_KEY_FILE === undefined)) {
    throw new ConfigError([
      `SECRETS_KMS_KEY_ID or SECRETS_KEY_FILE: exactly one is required for the ${role}, to seal endpoint signing secrets at rest ` +
        "(a KMS key in a deployment; a file of 32 random bytes locally)",
    ]);
  }
  if ((role === "api" || role === "worker") && config.ALLOW_PRIVATE_TARGETS && !onEmulators(config)) {
    throw new ConfigError([
      "ALLOW_PRIVATE_TARGETS: true turns the outbound address guard off, so it is allowed only where the services use local " +
        "emulators: set AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS) to loopback or a name " +
        "without a dot, such as http://127.0.0.1:8000 or http://localstack:4566",
    ]);
  }
  if (config.AWS_ENDPOINT_URL_DESTINATIONS && !onEmulators(config)) {
    throw new ConfigError([
      "AWS_ENDPOINT_URL_DESTINATIONS: only where the services use local emulators (AWS destinations are the customers' own)",
    ]);
  }
  if (!config.DESTINATION_ASSUME_ROLE && !config.AWS_ENDPOINT_URL_DESTINATIONS) {
    throw new ConfigError([
      "DESTINATION_ASSUME_ROLE: false only with AWS_ENDPOINT_URL_DESTINATIONS (an emulator without STS); on AWS the worker always assumes the customer's role",
    ]);
  }
  return config;
}

export interface TracingSettings {
  readonly endpoint: string;
  readonly sampleRatio: number;
}

/**
 * The tracing variables alone, read before any other module loads (tracing/start.ts). Undefined when tracing is
 * off, or when they are invalid: main.ts's parseConfig then stops the service with the usual line.
 */
export function tracingSettings(env: Readonly<Record<string, string | undefined>>): TracingSettings | undefined {
  const endpoint = schema.shape.OTEL_EXPORTER_OTLP_ENDPOINT.safeParse(env.OTEL_EXPORTER_OTLP_ENDPOINT).data;
  const sampleRatio = schema.shape.OTEL_TRACES_SAMPLER_ARG.safeParse(env.OTEL_TRACES_SAMPLER_ARG).data;
  return endpoint === undefined || sampleRatio === undefined ? undefined : { endpoint, sampleRatio };
}

/** Endpoints for the AWS clients: service-specific variable, then the general one, then AWS itself. */
export function awsEndpoints(c: Config): {
  dynamodb?: string | undefined;
  sqs?: string | undefined;
  kms?: string | undefined;
} {
  return {
    dynamodb: c.AWS_ENDPOINT_URL_DYNAMODB ?? c.AWS_ENDPOINT_URL,
    sqs: c.AWS_ENDPOINT_URL_SQS ?? c.AWS_ENDPOINT_URL,
    kms: c.AWS_ENDPOINT_URL_KMS ?? c.AWS_ENDPOINT_URL,
  };
}

/**
 * An emulator's host, by an allow-list: loopback (`localhost`, 127.0.0.0/8, `[::1]`) or a name without a dot (a
 * compose service such as `localstack`). A deny-list of AWS's names let spellings through (a trailing dot, an
 * alias, an address); anything with a dot that is not loopback is taken for a real service.
 */
export function isEmulatorHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host) || /^[a-z0-9-]+$/.test(host);
}

/**
 * True when every AWS service the services call goes to an endpoint that is set and is an emulator's (loopback: npm
 * start, the tests; a dotless name on compose's network: LocalStack). A deployment uses AWS itself.
 */
export function onEmulators(c: Config): boolean {
  const e = awsEndpoints(c);
  const used = c.SECRETS_KMS_KEY_ID === undefined ? [e.dynamodb, e.sqs] : [e.dynamodb, e.sqs, e.kms];
  return used.every((url) => url !== undefined && isEmulatorHost(new URL(url).hostname));
}
