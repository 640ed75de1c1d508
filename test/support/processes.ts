/** Programs of ours started as their own processes (services as in production, emulators, bench ceilings). */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { localCredentials } from "../../services/local/local-stack.ts";

export interface StartedProcess<T> {
  readonly child: ChildProcess;
  /** What the ready line said. */
  readonly info: T;
  /** Sends `signal` (SIGKILL by default) and resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `script` (a .ts file) with Node, `env` on top of ours; resolves with what `ready` makes of the first stdout line
 * it recognises (the rest of stdout is read and dropped, so the child never blocks on a full pipe), or at once
 * without `ready` (the caller checks readiness its own way).
 */
export async function startProcess<T>(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
  ready?: (line: string) => T | undefined,
): Promise<StartedProcess<T | undefined>> {
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", script, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise<T | undefined>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
    if (!ready) resolve(undefined);
    lines.on("line", (line) => {
      const value = ready?.(line);
      if (value !== undefined) resolve(value);
    });
  });
  return {
    child,
    info,
    kill(signal = "SIGKILL") {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill(signal);
      });
    },
  };
}

/** The first line as JSON: the protocol of the bench's helper processes. */
export const jsonLine = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>;

export interface ServiceProcess extends StartedProcess<number | undefined> {
  /** The API's port, read from its "listening" log line (0 for the worker). */
  readonly port: number;
}

export function startApiProcess(env: Record<string, string>): Promise<ServiceProcess> {
  return startServiceProcess("api", env);
}

/** The API or the worker as a child process; resolves once it logged that it is listening or started. */
export async function startServiceProcess(
  role: "api" | "worker",
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const main = fileURLToPath(new URL(`../../services/${role}/main.ts`, import.meta.url));
  const credentials = {
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
  };
  const started = await startProcess(main, [], { ...env, PORT: "0", LOG_LEVEL: "info", ...credentials }, (line) => {
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    return entry.msg === "listening" || entry.msg === "worker started" ? (entry.port ?? 0) : undefined;
  });
  return { ...started, port: started.info ?? 0 };
}
