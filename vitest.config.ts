import { configDefaults, defineConfig } from "vitest/config";

// Integration files whose storage calls other files make too (they test the HTTP layer, the CLI, the client, tracing):
// run on the default stack only. The runs on DynamoDB Local and moto (TEST_BACKEND) are for storage behaviour.
const storageAgnostic = [
  "abuse",
  "cli",
  "client",
  "cloudwatch-metrics",
  "openapi",
  "outbound-policy",
  "problems",
  "tracing",
];

const moto = process.env.TEST_BACKEND === "moto";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.TEST_BACKEND ? storageAgnostic.map((name) => `test/integration/${name}.test.ts`) : []),
    ],
    globalSetup: ["test/support/global-setup.ts"],
    // Integration files share two emulator processes; each file has its own tables and queues.
    pool: "forks",
    // The integration files mostly wait on I/O: run more of them than there are cores. On moto every DynamoDB call
    // of every file waits on one lock (test/support/moto-serial.py), so there fewer files at once, each given longer:
    // with four, calls queued behind the others' pushed tests past 30 s (two CI runs in a row, different files each).
    maxWorkers: moto ? 2 : 4,
    testTimeout: moto ? 90_000 : 30_000,
    hookTimeout: moto ? 90_000 : 30_000,
  },
});
