/** The API as an Express app built from its dependencies (no listen: main.ts or supertest drive it). */
import type { AwsDestinationRules } from "./destination-input.ts";
import { randomUUID } from "node:crypto";
import express, { type Express, type Request, type RequestHandler } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";
import { problems } from "../core/errors.ts";
import { isSystemTenant, systemTenant, systemTenantId } from "../core/system-tenant.ts";
import { portalKey } from "../core/portal-token.ts";
import type { Metrics } from "../metrics.ts";
import { findApiKey, touchApiKey, type ApiKeyStore } from "../aws/api-keys.ts";
import { createEnqueueBatcher, type DeliveryQueue } from "../aws/delivery-queue.ts";
import type { EventStore } from "../aws/events/store.ts";
import { cachedLookup, ensureTenant, getTenant, tenantCache, type TenantStore } from "../aws/tenants.ts";
import { operationalNotifier } from "../ingestion/operational-events.ts";
import { adminAuth, requireApiKey, requireTenant, tenantAuth } from "./middleware/authenticate.ts";
import { notFoundHandler, problemHandler } from "./middleware/problems.ts";
import { authFailureLimit, tenantRateLimit } from "./middleware/rate-limit.ts";
import { cachedReadiness } from "./readiness.ts";
import { adminTenantRoutes, pageQuery } from "./routes/admin-tenants.ts";
import { adminEraseRoutes } from "./routes/admin-erase.ts";
import { requeueBudgetMs } from "../core/timing.ts";
import { adminDlqRoutes } from "./routes/admin-dlq.ts";
import { adminHistoryRoutes } from "./routes/admin-history.ts";
import { adminSecretRoutes } from "./routes/admin-secrets.ts";
import { endpointRoutes } from "./routes/endpoints.ts";
import { portalSessionRate, portalSessionRoutes } from "./routes/portal-sessions.ts";
import { liveTenant } from "./tenant-records.ts";
import { tenantIdentityView } from "./views.ts";
import { auditTrail } from "./middleware/audit-trail.ts";
import { adminAuditQuery, auditRoutes } from "./routes/audit.ts";
import { recordAudit } from "../aws/audit-log.ts";
import { webRoutes } from "./web/routes.ts";
import { traceIngestion } from "./ingest-tracing.ts";
import { eventReadRoutes, ingestRoutes } from "./routes/events.ts";
import { catalogSettingsRoutes, eventTypeRoutes } from "./routes/event-types.ts";
import { catalogChecker } from "../ingestion/catalog-check.ts";
import { freshEventWriter } from "../aws/events/create-event.ts";

export interface AppDeps {
  readonly tenants: TenantStore;
  readonly apiKeys: ApiKeyStore;
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
  readonly adminToken: string;
  readonly maxPayloadBytes: number;
  readonly maxJsonDepth: number;
  readonly ingestRatePerS: number;
  readonly ingestBurst: number;
  /** Per-tenant token bucket on tenant actions (retry, recover, rotation, endpoint writes). */
  readonly tenantActionRatePerS: number;
  readonly tenantActionBurst: number;
  /** Per-tenant token bucket on /v1 reads (GET, HEAD). */
  readonly tenantReadRatePerS: number;
  readonly tenantReadBurst: number;
  readonly allowPrivateTargets: boolean;
  /** Ports a public endpoint may use (443 always). */
  readonly allowedTargetPorts: readonly number[];
  /** AWS destinations as this platform takes them (absent: refused). */
  readonly awsDestinations?: AwsDestinationRules | undefined;
  /** How long an API key or tenant lookup is reused: the upper bound for a revocation to take effect. */
  readonly authCacheTtlMs: number;
  /** Failed authentications per client address per minute before 429. */
  readonly authFailureLimit: number;
  /** Proxies in front of the API (the ALB: 1); req.ip is the address the nearest of them saw. */
  readonly trustProxyHops: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Default grace period of a secret rotation. */
  readonly rotationGraceMs: number;
  /** DLQ requeue messages per second. */
  readonly requeueRate: number;
  /** How long one DLQ requeue runs at most. @default requeueBudgetMs (core/timing.ts) */
  readonly requeueBudgetMs?: number;
  /** How long after its event a delivery can die by the retry schedule: how far back recover looks for events. */
  readonly deliverySpanMs: number;
  /** Throws when DynamoDB or SQS cannot be reached (asked at most every few seconds: see readiness.ts). */
  readonly ready: () => Promise<void>;
  readonly now?: () => number;
  /** Where the built operator console is (served at /console), and the tenant portal beside it (/portal). */
  readonly consoleDir: string;
  /** The origin portal links point at; unset, the request's own. */
  readonly publicUrl?: string | undefined;
  /** Origins that may frame the portal (CSP frame-ancestors on /portal only). */
  readonly portalFrameAncestors: readonly string[];
}

/** The app, and what its process calls once the server has closed (the operational notices still gathered). */
export type App = Express & { readonly flushNotices: () => Promise<void> };

export function createApp(deps: AppDeps): App {
  const now = deps.now ?? Date.now;
  const app = express();
  app.disable("x-powered-by");
  // The load balancer's rules on the operator paths (/admin…) are case-sensitive: so is routing, so /ADMIN cannot
  // slip past them to reach the same handlers.
  app.enable("case sensitive routing");
  app.use(helmet());
  // Exactly the proxies in front of us (the ALB appends the address it saw to X-Forwarded-For): req.ip is then
  // that address. `true` would trust the leftmost entry, which any client writes itself.
  app.set("trust proxy", deps.trustProxyHops);
  app.use(
    pinoHttp({
      logger: deps.logger,
      // Health and readiness checks (the load balancer's, every 15 s per task) are not requests worth a line each: at
      // scale they were most of the API's log volume. A failed readiness check logs its own warning.
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/readyz" },
      genReqId: (req, res) => {
        const offered = req.headers["x-request-id"];
        const id = typeof offered === "string" && /^[\w.-]{1,128}$/.test(offered) ? offered : randomUUID();
        res.setHeader("x-request-id", id);
        return id;
      },
      // Only these fields: headers (Authorization among them) and the query string never reach the log, so nothing a
      // client puts there (a token pasted into a link) is written down.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split("?")[0],
        }),
        res: (res: { statusCode: number }) => ({ status_code: res.statusCode }),
      },
    }),
  );

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  const ready = cachedReadiness(deps.ready, now);
  app.get("/readyz", async (req, res) => {
    try {
      await ready();
    } catch (err) {
      req.log.warn({ err }, "not ready");
      throw problems.unavailable();
    }
    res.json({ status: "ready" });
  });

  const failures = authFailureLimit({ perMinute: deps.authFailureLimit, now });
  // Tenants as this process last wrote or read them: an endpoint added here receives the next event sent here.
  const tenantsCache = tenantCache((id) => getTenant(deps.tenants, id), deps.authCacheTtlMs);
  const tenants: TenantStore = { ...deps.tenants, written: (t) => tenantsCache.remember(t) };
  const cachedTenant = (id: string) => tenantsCache.get(id);
  // Portal sessions are signed with a key derived from the admin token: rotating it ends every session.
  const sessionKey = portalKey(deps.adminToken);
  const auth = tenantAuth({
    findApiKey: cachedLookup((hash) => findApiKey(deps.apiKeys, hash), deps.authCacheTtlMs),
    getTenant: cachedTenant,
    touch: (hash, day) => touchApiKey(deps.apiKeys, hash, day),
    now,
    failures,
    portalKey: sessionKey,
  });
  const admin = adminAuth(deps.adminToken, failures);
  const { apiKeys, store, queue, allowPrivateTargets, allowedTargetPorts, awsDestinations, metrics } = deps;
  const enqueue = createEnqueueBatcher(queue);
  const notify = operationalNotifier({ store, enqueue, now, metrics, getTenant: cachedTenant, log: deps.logger });
  const tenantVersion = async (id: string) => (await getTenant(tenants, id))?.version;
  const requeue = { store, queue, now, tenantVersion };
  const endpoints = {
    ...requeue,
    tenants,
    allowPrivateTargets,
    allowedTargetPorts,
    awsDestinations,
    rotationGraceMs: deps.rotationGraceMs,
    requeueRate: deps.requeueRate,
    deliverySpanMs: deps.deliverySpanMs,
    notify,
    enqueue,
    metrics,
  };
  // A tenant's actions besides ingestion share one bucket per tenant; an operator under /admin is not throttled.
  const actionLimit = tenantRateLimit({
    ratePerS: deps.tenantActionRatePerS,
    burst: deps.tenantActionBurst,
    now,
    limit: "This tenant's rate limit on actions",
  });
  const unlimited: RequestHandler = (_req, _res, next) => next();
  // Whose data a request acts on: the API key's tenant on /v1, the path's on /admin/tenants/{tenantId}.
  const keyTenant = (req: Request) => requireTenant(req).tenantId;
  const pathTenant = (req: Request) => String(req.params.tenantId);
  // Every change is appended to the audit log once answered (after auth below has said who made it).
  app.use(auditTrail({ record: (entry) => recordAudit(store, entry), now, log: deps.logger }));
  app.use("/v1", auth);
  // Reads have their own bucket per tenant: an event read is up to a megabyte of JSON, so reads are work too.
  const readLimit = tenantRateLimit({
    ratePerS: deps.tenantReadRatePerS,
    burst: deps.tenantReadBurst,
    now,
    limit: "This tenant's rate limit on reads",
  });
  app.use("/v1", (req, res, next) =>
    req.method === "GET" || req.method === "HEAD" ? readLimit(req, res, next) : next(),
  );
  app.use("/v1/events", traceIngestion);
  app.use(
    "/v1/events",
    ingestRoutes({
      store,
      storeFresh: freshEventWriter(store),
      enqueue,
      metrics,
      now,
      maxPayloadBytes: deps.maxPayloadBytes,
      maxJsonDepth: deps.maxJsonDepth,
      ingestRatePerS: deps.ingestRatePerS,
      ingestBurst: deps.ingestBurst,
      catalog: catalogChecker(store),
    }),
    eventReadRoutes({ ...requeue, tenantIdOf: keyTenant, actionLimit }),
  );
  app.get("/v1/tenant", (req, res) => {
    res.json(tenantIdentityView(requireTenant(req)));
  });
  app.use("/v1/audit", auditRoutes({ store, query: pageQuery, scope: keyTenant }));
  app.use("/v1/endpoints", endpointRoutes({ ...endpoints, tenantIdOf: keyTenant, actionLimit }));
  const catalog = {
    store,
    now,
    tenantIdOf: keyTenant,
    actionLimit,
    maxPayloadBytes: deps.maxPayloadBytes,
    maxJsonDepth: deps.maxJsonDepth,
  };
  app.use("/v1/event-types", eventTypeRoutes(catalog));
  app.use("/v1/catalog", catalogSettingsRoutes(catalog));
  const sessions = { key: sessionKey, publicUrl: deps.publicUrl, now };
  const sessionLimit = tenantRateLimit({ ...portalSessionRate, now, limit: "This tenant's limit on portal sessions" });
  app.use(
    "/v1/portal-sessions",
    requireApiKey,
    portalSessionRoutes({ ...sessions, tenantIdOf: keyTenant, keyOf: (req) => req.apiKey, limit: sessionLimit }),
  );
  app.use("/admin", admin);
  // The system tenant is the platform's own: reached through its own routes below, never as a tenant.
  app.use("/admin/tenants/:tenantId", (req, _res, next) => {
    if (isSystemTenant(req.params.tenantId)) throw problems.notFound(`Tenant ${req.params.tenantId}`);
    next();
  });
  app.use(
    "/admin/tenants/:tenantId/endpoints",
    endpointRoutes({ ...endpoints, tenantIdOf: pathTenant, actionLimit: unlimited }),
  );
  app.use(
    "/admin/tenants/:tenantId/events",
    eventReadRoutes({ ...requeue, tenantIdOf: pathTenant, actionLimit: unlimited }),
  );
  app.use(
    "/admin/tenants/:tenantId/portal-sessions",
    portalSessionRoutes({
      ...sessions,
      tenantIdOf: async (req) => (await liveTenant(tenants, pathTenant(req))).tenantId,
      keyOf: () => undefined,
      limit: unlimited,
    }),
  );
  app.use("/admin/tenants/:tenantId/erase", adminEraseRoutes({ tenants, apiKeys, events: store, queue, notify, now }));
  app.use(
    "/admin/tenants",
    adminTenantRoutes({ tenants, apiKeys, allowPrivateTargets, allowedTargetPorts, awsDestinations, now }),
  );
  // Operational webhooks: the same endpoint and event routes, for the system tenant (created when first subscribed to).
  let system: Promise<void> | undefined;
  const systemExists: RequestHandler = async (_req, _res, next) => {
    system ??= ensureTenant(tenants, systemTenant(now())).catch((err: unknown) => {
      system = undefined;
      throw err;
    });
    await system;
    next();
  };
  const systemTenantOf = () => systemTenantId;
  app.use(
    "/admin/operational-endpoints",
    systemExists,
    endpointRoutes({ ...endpoints, tenantIdOf: systemTenantOf, actionLimit: unlimited }),
  );
  app.use(
    "/admin/operational-events",
    eventReadRoutes({ ...requeue, tenantIdOf: systemTenantOf, actionLimit: unlimited }),
  );
  app.use(
    "/admin",
    adminDlqRoutes({
      ...requeue,
      requeueRate: deps.requeueRate,
      requeueBudgetMs: deps.requeueBudgetMs ?? requeueBudgetMs,
      metrics,
    }),
  );
  app.use("/admin", adminHistoryRoutes({ store, now }));
  app.use("/admin/audit", auditRoutes({ store, query: adminAuditQuery, scope: (_req, q) => q.tenant_id }));
  app.use("/admin", adminSecretRoutes({ tenants }));
  // Scraped with the admin token: behind a public load balancer, metrics are not for everyone.
  app.get("/metrics", admin, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(webRoutes({ consoleDir: deps.consoleDir, portalFrameAncestors: deps.portalFrameAncestors }));
  app.use(notFoundHandler);
  app.use(problemHandler);
  return Object.assign(app, { flushNotices: () => notify.flush() });
}
