import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // Integration files share two emulator processes; each file has its own tables and queues.
    pool: "forks",
    // The integration files mostly wait on I/O: run more of them than there are cores.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
