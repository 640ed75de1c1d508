/**
 * How the client is generated from an OpenAPI document: @hey-api/openapi-ts with its types, SDK and fetch-client
 * plugins, the runtime bundled into the output (no runtime dependency). The generate script and the staleness test
 * both call this, so they cannot generate differently.
 */
import { createClient } from "@hey-api/openapi-ts";

/** Where the generated sources live, relative to the package. */
export const generatedDir = "src/generated";

export async function generateClient(document: object, outDir: string): Promise<void> {
  await createClient({
    input: document as Record<string, unknown>,
    // `.ts` specifiers, so Node runs the sources as they are (the CLI does) and tsc rewrites them to `.js` on build;
    // no tsconfig lookup, so the output depends on the document and the generator's version only.
    output: { path: outDir, module: { extension: ".ts" }, tsConfigPath: null },
    logs: { level: "silent" },
    plugins: [
      "@hey-api/typescript",
      // One class whose methods are named by operationId; our wrapper gives it its configured client.
      { name: "@hey-api/sdk", operations: { strategy: "single", containerName: "PlatformApi", methods: "instance" } },
      // No base URL baked in (each user has their own), and errors thrown: the wrapper turns them into ProblemError.
      { name: "@hey-api/client-fetch", baseUrl: false, throwOnError: true },
    ],
  });
}
