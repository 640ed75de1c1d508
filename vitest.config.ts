import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // Integration files share two emulator processes; each file has its own tables and queues.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
