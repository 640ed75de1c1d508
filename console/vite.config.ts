// The operator console: a static bundle the API serves under /console (CONSOLE_DIR).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/console/",
  build: { outDir: fileURLToPath(new URL("../dist/console", import.meta.url)), emptyOutDir: true },
  // `npm run dev:console` against a local API (npm start) on port 3000.
  server: { proxy: { "/admin": "http://127.0.0.1:3000", "/metrics": "http://127.0.0.1:3000" } },
});
