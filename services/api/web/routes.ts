/**
 * What the API serves to people rather than programs: the OpenAPI document, its docs page (Swagger UI
 * from the swagger-ui-dist package, no CDN), and the operator console built by Vite into `consoleDir`.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import express, { Router } from "express";
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

export function webRoutes(opts: { consoleDir: string }): Router {
  // Case-sensitive like the app (create-app.ts): /Console must not reach what the load balancer closes as /console.
  const router = Router({ caseSensitive: true });
  // Built on first request (~30 ms), not at start-up: most API tasks never serve it.
  let document: string | undefined;
  router.get("/openapi.json", (_req, res) => {
    document ??= JSON.stringify(openApiDocument("1.0.0"));
    res.type("application/json").send(document);
  });
  router.get("/docs", (_req, res) => {
    res.type("html").send(docsPage);
  });
  router.get("/docs/init.js", (_req, res) => {
    res.type("text/javascript").send(docsInit);
  });
  router.use("/docs/assets", express.static(swaggerUiDir, { index: false, fallthrough: false }));
  router.use("/console", (req, _res, next) => {
    if (!existsSync(join(opts.consoleDir, "index.html"))) {
      throw problems.notFound("The console (build it with npm run build:console)");
    }
    next();
  });
  router.use("/console", express.static(opts.consoleDir, { index: "index.html", redirect: true }));
  return router;
}
