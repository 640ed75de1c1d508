/** The image's roles as containers on the host's network (the private engine has no bridge), named per run. */
import type { Engine } from "./engine.ts";
import { imageTag } from "./project-image.ts";

export interface RoleContainer {
  readonly name: string;
  logs(): Promise<string>;
  /** `docker stop -t graceS`: how long it took and the exit code the process chose. */
  stop(graceS: number): Promise<{ ms: number; exitCode: number }>;
}

export class Containers {
  readonly #names = new Set<string>();
  readonly #volumes = new Set<string>();
  readonly #prefix = `whp-${process.pid}-${Date.now().toString(36)}`;

  private readonly engine: Engine;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  /** A volume for this run (the key file the roles share, as compose's secrets-key). */
  async volume(name: string): Promise<string> {
    const full = `${this.#prefix}-${name}`;
    await this.engine.docker(["volume", "create", full]);
    this.#volumes.add(full);
    return full;
  }

  /** Starts `role` detached; `volumes` are `source:target` pairs. */
  async start(
    name: string,
    role: string,
    env: Record<string, string>,
    opts: { volumes?: string[]; image?: string } = {},
  ): Promise<RoleContainer> {
    const full = `${this.#prefix}-${name}`;
    this.#names.add(full);
    const args = ["run", "-d", "--name", full, "--network", "host"];
    for (const [k, v] of Object.entries(env)) args.push("-e", `${k}=${v}`);
    for (const v of opts.volumes ?? []) args.push("-v", v);
    await this.engine.docker([...args, opts.image ?? imageTag, role]);
    return {
      name: full,
      logs: () => this.logs(full),
      stop: async (graceS) => {
        const started = Date.now();
        await this.engine.docker(["stop", "-t", String(graceS), full], { timeoutMs: (graceS + 30) * 1000 });
        const ms = Date.now() - started;
        const exitCode = Number((await this.engine.docker(["inspect", "-f", "{{.State.ExitCode}}", full])).trim());
        return { ms, exitCode };
      },
    };
  }

  /** Runs `role` to completion: its exit code and output. */
  async once(
    name: string,
    role: string,
    env: Record<string, string>,
    opts: { volumes?: string[] } = {},
  ): Promise<{ code: number; out: string }> {
    const c = await this.start(name, role, env, opts);
    const code = Number((await this.engine.docker(["wait", c.name], { timeoutMs: 180_000 })).trim());
    return { code, out: await c.logs() };
  }

  async logs(name: string): Promise<string> {
    const r = await this.engine.sh(`docker logs '${name}' 2>&1`);
    return r.out;
  }

  /** Removes every container and volume this run made, whatever state they are in. */
  async removeAll(): Promise<void> {
    if (this.#names.size) await this.engine.docker(["rm", "-f", "-v", ...this.#names]).catch(() => undefined);
    if (this.#volumes.size) await this.engine.docker(["volume", "rm", "-f", ...this.#volumes]).catch(() => undefined);
    this.#names.clear();
    this.#volumes.clear();
  }
}
