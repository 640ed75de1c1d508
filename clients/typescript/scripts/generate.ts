/**
 * `npm run generate:client`, and the package's build before it compiles: regenerates src/generated from the document
 * the API serves at /openapi.json. Commit the result after any change to a route or a view; the staleness test in
 * test/integration/client.test.ts fails until you do.
 */
import { fileURLToPath } from "node:url";
import { servedOpenApiJson } from "../../../services/api/web/routes.ts";
import { generateClient, generatedDir } from "./codegen.ts";

const outDir = fileURLToPath(new URL(`../${generatedDir}`, import.meta.url));
await generateClient(JSON.parse(servedOpenApiJson()) as object, outDir);
process.stdout.write(`generated ${outDir}\n`);
