/** Starts the emulators once for the whole run; each test file provisions its own tables and queues in them. */
import type { TestProject } from "vitest/node";
import { startEmulators } from "../../services/local/emulators.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const emulators = await startEmulators({ dynamoPort: 0, sqsPort: 0 });
  project.provide("dynamoEndpoint", emulators.dynamoEndpoint);
  project.provide("sqsEndpoint", emulators.sqsEndpoint);
  return () => emulators.stop();
}
