// The operator console and the tenant portal: one static bundle the API serves, the console at /console and the
// portal at /portal (CONSOLE_DIR), their assets shared.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  // Relative: each page loads the shared assets from beside itself (/console/assets, /portal/assets), so the portal
  // needs nothing under /console, which the load balancer keeps to operators' networks.
  base: "./",
  build: {
    outDir: here("../dist/console"),
    emptyOutDir: true,
    rolldownOptions: { input: { console: here("index.html"), portal: here("portal.html") } },
  },
  // `npm run dev:console` against a local API (npm start) on port 3000: the console at /, the portal at /portal.html.
  server: {
    proxy: { "/admin": "http://127.0.0.1:3000", "/metrics": "http://127.0.0.1:3000", "/v1": "http://127.0.0.1:3000" },
  },
});
