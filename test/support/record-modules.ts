/**
 * Preloaded with `--import` by a test: records every module the process resolves (import and require alike)
 * and prints the @opentelemetry packages among them as one JSON line on stderr when the process exits.
 */
import { registerHooks } from "node:module";

const packages = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    const name = /node_modules\/(@opentelemetry\/[^/]+)\//.exec(resolved.url)?.[1];
    if (name) packages.add(name);
    return resolved;
  },
});
process.on("exit", () => process.stderr.write(`${JSON.stringify({ opentelemetry: [...packages].sort() })}\n`));
