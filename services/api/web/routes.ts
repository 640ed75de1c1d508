/**
 * What the API serves to people rather than programs: the OpenAPI document, its docs page (Swagger UI
 * from the swagger-ui-dist package, no CDN), and the pages Vite builds into `consoleDir`: the operator console at
 * /console and the tenant portal at /portal (public: the token in its link is the credential), sharing one bundle.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import express, { Router, type RequestHandler } from "express";
import helmet from "helmet";
import { problems } from "../../core/errors.ts";
import { openApiDocument } from "../openapi.ts";

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Webhook delivery platform API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>`;
// A script of its own, not inline: the CSP allows scripts from 'self' only.
const docsInit = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });`;

/** 404 until `npm run build:console` has built `page` into `dir`. */
const built =
  (dir: string, page: string): RequestHandler =>
  (_req, _res, next) => {
    if (!existsSync(join(dir, page))) throw problems.notFound("The console (build it with npm run build:console)");
    next();
  };

/**
 * The portal may be framed by the operator's own product: these origins join frame-ancestors for /portal only, and
 * X-Frame-Options goes (it has no allow-list, and would refuse them). Unset, helmet's defaults stand: only this origin.
 */
function framedBy(origins: readonly string[]): RequestHandler {
  if (origins.length === 0) return (_req, _res, next) => next();
  const csp = helmet.contentSecurityPolicy({ directives: { frameAncestors: ["'self'", ...origins] } });
  return (req, res, next) => {
    res.removeHeader("X-Frame-Options");
    csp(req, res, next);
  };
}

let servedDocument: string | undefined;
/**
 * The OpenAPI document exactly as GET /openapi.json serves it: also what the TypeScript client is generated from
 * (`npm run generate:client`). Built on first use (~30 ms), not at start-up: most API tasks never serve it.
 */
export function servedOpenApiJson(): string {
  servedDocument ??= JSON.stringify(openApiDocument("1.0.0"));
  return servedDocument;
}

export function webRoutes(opts: { consoleDir: string; portalFrameAncestors: readonly string[] }): Router {
  // Case-sensitive like the app (create-app.ts): /Console must not reach what the load balancer closes as /console.
  const router = Router({ caseSensitive: true });
  router.get("/openapi.json", (_req, res) => {
    res.type("application/json").send(servedOpenApiJson());
  });
  router.get("/docs", (_req, res) => {
    res.type("html").send(docsPage);
  });
  router.get("/docs/init.js", (_req, res) => {
    res.type("text/javascript").send(docsInit);
  });
  router.use("/docs/assets", express.static(swaggerUiDir, { index: false, fallthrough: false }));
  router.use("/console", built(opts.consoleDir, "index.html"));
  router.use("/console", express.static(opts.consoleDir, { index: "index.html", redirect: true }));
  // The portal's page and the bundle's assets only (not the console's page): its links are for tenants.
  router.use("/portal", framedBy(opts.portalFrameAncestors), built(opts.consoleDir, "portal.html"));
  router.get("/portal", (req, res) => {
    // The page's assets are relative to it: /portal/ (the fragment survives the redirect).
    if (!req.path.endsWith("/")) res.redirect(301, "/portal/");
    else res.sendFile("portal.html", { root: resolve(opts.consoleDir) });
  });
  router.use("/portal/assets", express.static(join(opts.consoleDir, "assets"), { index: false, fallthrough: false }));
  return router;
}
