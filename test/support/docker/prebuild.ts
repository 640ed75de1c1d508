/**
 * For .ci/run: builds the base and the images the container checks use (the runtime image and the build stage) in
 * the background while the other suites run, so that the checks at the end find every layer cached. Stops the
 * engine it started, on success, on failure and on SIGTERM (.ci/run's exit trap).
 */
import { startEngine } from "./engine.ts";
import { buildImages } from "./project-image.ts";

const log = (line: string) => process.stdout.write(`[prebuild] ${line}\n`);
const started = Date.now();
const engine = await startEngine({ netns: false });
process.once("SIGTERM", () => {
  log("stopped before it finished");
  void engine.stop().finally(() => process.exit(143));
});
try {
  await buildImages(engine, { emulators: true }, log);
  log(`ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await engine.stop();
}
