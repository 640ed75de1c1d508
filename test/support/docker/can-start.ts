/**
 * For .ci/run: exits 0 when a Docker engine can be started here (it starts one and stops it), else prints why in
 * one line and exits 1.
 */
import { startEngine, whyNoEngine } from "./engine.ts";

const why = await whyNoEngine();
if (why) {
  process.stdout.write(`${why}\n`);
  process.exit(1);
}
try {
  const engine = await startEngine({ netns: false });
  await engine.stop();
} catch (err) {
  process.stdout.write(`${(err instanceof Error ? err.message : String(err)).split("\n")[0]}\n`);
  process.exit(1);
}
