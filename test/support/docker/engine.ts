/**
 * A Docker engine for the container checks (test/docker): the one DOCKER_HOST names, or a private dockerd started
 * here (root, Linux) with its data under a cache directory kept between runs, so images and build layers are
 * reused. A private engine may get a network namespace of its own, where fixed published ports (compose's
 * 127.0.0.1:3000) touch nothing else on the machine. Whatever is started here is stopped by `stop()`.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
} from "node:fs";
import { rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Engine {
  /** The environment for docker and compose commands: DOCKER_HOST, BuildKit on, the docker CLI chosen here. */
  readonly env: NodeJS.ProcessEnv;
  /** The storage driver of the private engine, or "external". */
  readonly driver: string;
  /** `docker …`; resolves with stdout, rejects with stderr in the message. */
  docker(args: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /**
   * A shell command run where the engine's published ports are (inside its network namespace, if it has one), with
   * `env` on top of the engine's.
   */
  sh(command: string, env?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<{ code: number; out: string }>;
  stop(): Promise<void>;
}

/** Where the private engine keeps images and build layers between runs (DOCKER_CHECKS_ROOT overrides it). */
export const cacheRoot = process.env.DOCKER_CHECKS_ROOT ?? join(homedir(), ".cache", "webhook-platform", "docker");

/** Why a private engine cannot be started here, or undefined when it can (the CI's one-line skip reason). */
export async function whyNoEngine(): Promise<string | undefined> {
  if (process.env.DOCKER_HOST) return undefined;
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "not root";
  for (const tool of ["dockerd", "unshare", "nsenter"])
    if (!onPath(tool)) return `${tool} not found (apt-get install docker.io)`;
  if (!(await dockerClient().catch(() => undefined))) return "no docker CLI that builds with BuildKit";
  return undefined;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const file = join(dir, name);
    if (dir && existsSync(file)) return file;
  }
  return undefined;
}

/**
 * A docker CLI that builds with BuildKit (the Dockerfile's `--platform=$BUILDPLATFORM` needs it): one with the buildx
 * plugin, or one older than 23 (which still drives the engine's own BuildKit with DOCKER_BUILDKIT=1). Docker 23+'s
 * CLI without buildx falls back to the legacy builder, which cannot read that line.
 */
async function dockerClient(): Promise<string> {
  const seen = new Set<string>();
  const candidates: string[] = [];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const file = join(dir, "docker");
    if (!dir || !existsSync(file)) continue;
    const real = realpathSync(file);
    if (seen.has(real)) continue;
    seen.add(real);
    candidates.push(real);
  }
  for (const cli of candidates)
    if (
      await run(cli, ["buildx", "version"]).then(
        () => true,
        () => false,
      )
    )
      return cli;
  for (const cli of candidates) {
    const { stdout } = await run(cli, ["--version"]).catch(() => ({ stdout: "" }));
    const major = Number(/version (\d+)\./.exec(stdout)?.[1] ?? 99);
    if (major < 23) return cli;
  }
  throw new Error(`no docker CLI with BuildKit among ${candidates.join(", ") || "none on PATH"}`);
}

/**
 * A directory with a `docker` that is the chosen CLI, except that `docker compose` runs the standalone
 * `docker-compose` where the CLI has no compose plugin (Debian's 1.29): README lines run as written.
 */
function shimDir(cli: string): string {
  const dir = mkdtempSync(join(tmpdir(), "docker-cli-"));
  const shim = join(dir, "docker");
  writeFileSync(
    shim,
    [
      "#!/bin/sh",
      `if [ "$1" = compose ] && ! "${cli}" compose version >/dev/null 2>&1; then shift; exec docker-compose "$@"; fi`,
      `exec "${cli}" "$@"`,
      "",
    ].join("\n"),
  );
  chmodSync(shim, 0o755);
  return dir;
}

/** One private engine at a time per cache directory: a second run waits for the first (bounded). */
async function lock(file: string): Promise<() => void> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      const fd = openSync(file, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number(readFileSync(file, "utf8") || "0");
    if (!holder || !alive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${file}: still held by pid ${holder} after 20 minutes`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startEngine(opts: { netns: boolean }): Promise<Engine> {
  const cli = await dockerClient();
  const bin = shimDir(cli);
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`,
    DOCKER_BUILDKIT: "1",
    // compose 1.29 builds through the CLI (so with BuildKit) only when asked; v2 always does.
    COMPOSE_DOCKER_CLI_BUILD: "1",
    // Creating and removing containers can be slow on a copying storage driver: compose 1.29 waits 60 s by default.
    COMPOSE_HTTP_TIMEOUT: "600",
  };
  if (process.env.DOCKER_HOST) return engineAt(base, "external", undefined, () => rmSync(bin, { recursive: true }));
  mkdirSync(cacheRoot, { recursive: true });
  const unlock = await lock(join(cacheRoot, "lock"));
  try {
    // overlay2 where the kernel and the file system allow it; vfs (a full copy per layer, slow) otherwise.
    for (const driver of ["overlay2", "vfs"]) {
      const daemon = await startDockerd(driver, opts.netns).catch((err: unknown) => {
        process.stderr.write(`dockerd with ${driver}: ${err instanceof Error ? err.message : String(err)}\n`);
        return undefined;
      });
      if (!daemon) continue;
      const env = { ...base, DOCKER_HOST: `unix://${daemon.socket}` };
      return engineAt(env, driver, daemon.child.pid, async () => {
        await stopProcess(daemon.child, 60_000);
        rmSync(bin, { recursive: true });
        unlock();
      });
    }
    throw new Error(`dockerd did not start (logs in ${cacheRoot}/dockerd-*.log)`);
  } catch (err) {
    unlock();
    throw err;
  }
}

async function startDockerd(driver: string, netns: boolean): Promise<{ child: ChildProcess; socket: string }> {
  const root = join(cacheRoot, driver);
  const execRoot = join(cacheRoot, "exec");
  const socket = join(cacheRoot, "docker.sock");
  mkdirSync(root, { recursive: true });
  rmSync(socket, { force: true });
  const args = [
    `--storage-driver=${driver}`,
    // No bridge on the host network and no iptables rules: nothing here changes the machine's networking.
    "--iptables=false",
    "--ip6tables=false",
    "--bridge=none",
    `--data-root=${root}`,
    `--exec-root=${execRoot}`,
    `--pidfile=${join(cacheRoot, "dockerd.pid")}`,
    `--host=unix://${socket}`,
  ];
  const log = openSync(join(cacheRoot, `dockerd-${driver}.log`), "w");
  // unshare without --fork execs: the child's pid is dockerd's, in a new network namespace with only loopback up.
  const child = netns
    ? spawn("unshare", ["--net", "sh", "-c", 'ip link set lo up && exec dockerd "$@"', "dockerd", ...args], {
        stdio: ["ignore", log, log],
      })
    : spawn("dockerd", args, { stdio: ["ignore", log, log] });
  closeSync(log);
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`exited ${code}`))));
  exited.catch(() => undefined);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const info = await Promise.race([
      run("docker", ["-H", `unix://${socket}`, "info", "--format", "{{.Driver}}"]).then(
        (r) => r.stdout.trim(),
        () => undefined,
      ),
      exited,
    ]);
    if (info === driver) return { child, socket };
    if (info !== undefined) {
      await stopProcess(child, 30_000);
      throw new Error(`came up with ${info}`);
    }
    if (Date.now() > deadline) {
      await stopProcess(child, 30_000);
      throw new Error("did not answer within 60 s");
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** SIGTERM (dockerd stops its containers and its containerd), SIGKILL after `graceMs`. */
async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
}

function engineAt(
  env: NodeJS.ProcessEnv,
  driver: string,
  pid: number | undefined,
  stop: () => Promise<void> | void,
): Engine {
  // nsenter into dockerd's network namespace (when it has one of its own); the rest of the machine is shared.
  const enter = pid === undefined ? [] : ["nsenter", "-t", String(pid), "-n"];
  return {
    env,
    driver,
    async docker(args, opts = {}) {
      const child = execFile("docker", [...args], {
        env,
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 600_000,
      });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
      else child.stdin?.end();
      let out = "";
      let err = "";
      child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
      if (code !== 0) throw new Error(`docker ${args.join(" ")}: exit ${code}\n${err.slice(-4000)}`);
      return out;
    },
    async sh(command, extra = {}, timeoutMs = 600_000) {
      const argv = [...enter, "sh", "-c", command];
      const child = spawn(argv[0]!, argv.slice(1), { env: { ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
      clearTimeout(timer);
      return { code: code ?? -1, out };
    },
    stop: async () => {
      await stop();
    },
  };
}
