/** A service started as its own process (as in production), for tests that kill it. */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { localCredentials } from "../../services/local/local-stack.ts";

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** The API's port, read from its "listening" log line. */
  readonly port: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startApiProcess(env: Record<string, string>): Promise<ServiceProcess> {
  return startServiceProcess("api", env);
}

/** The API or the worker as a child process; resolves once it logged that it is listening or started. */
export async function startServiceProcess(role: "api" | "worker", env: Record<string, string>): Promise<ServiceProcess> {
  const main = fileURLToPath(new URL(`../../services/${role}/main.ts`, import.meta.url));
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", main], {
    env: { ...process.env, ...env, PORT: "0", LOG_LEVEL: "info", AWS_ACCESS_KEY_ID: localCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === "listening" || entry.msg === "worker started") resolve(entry.port ?? 0);
    });
  });
  return {
    child,
    port,
    kill(signal = "SIGKILL") {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill(signal);
      });
    },
  };
}
