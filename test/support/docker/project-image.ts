/** The project's image, built from the Dockerfile exactly as compose and CDK build it, on the chosen base. */
import { fileURLToPath } from "node:url";
import type { Engine } from "./engine.ts";
import { baseImage } from "./base-image.ts";

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
/** The tag compose runs every role from (docker-compose.yml's x-image). */
export const imageTag = "webhook-platform:local";
/** The Dockerfile's build stage, which docker-compose.emulators.yml runs the emulators from. */
export const emulatorsTag = "webhook-platform:emulators";

export interface BuiltImages {
  readonly base: string;
  /** Seconds the two builds took (most of it cached on a second run). */
  readonly buildS: number;
}

/**
 * Builds the runtime image (and, with `emulators`, the build stage) with host networking, which is all this engine
 * has (`--bridge=none`) and which the build's `npm ci` needs to reach the registry.
 */
export async function buildImages(
  engine: Engine,
  opts: { emulators: boolean },
  log: (line: string) => void,
): Promise<BuiltImages> {
  const base = await baseImage(engine, log);
  const started = Date.now();
  const build = (extra: string[]) =>
    engine.docker(["build", "--network", "host", "--build-arg", `NODE_IMAGE=${base}`, ...extra, repoRoot], {
      timeoutMs: 1_200_000,
    });
  await build(["-t", imageTag]);
  if (opts.emulators) await build(["--target", "build", "-t", emulatorsTag]);
  const buildS = (Date.now() - started) / 1000;
  log(`images built in ${buildS.toFixed(0)} s on ${base} (${engine.driver})`);
  // Earlier builds' images, untagged by these: without this a cache directory grows by an image a run.
  if (engine.driver !== "external") await engine.docker(["image", "prune", "--force"]);
  return { base, buildS };
}
