/** An emulator run as its own process on a free loopback port (AWS's DynamoDB Local, moto_server). */
import { spawn } from "node:child_process";
import { freePort } from "./free-port.ts";

export interface BackendProcess {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts `command` with `args(port)` and resolves once it answers HTTP (any status) on that port. */
export async function startBackendProcess(
  name: string,
  command: string,
  args: (port: number) => string[],
): Promise<BackendProcess> {
  const port = await freePort();
  const child = spawn(command, args(port), { stdio: ["ignore", "ignore", "inherit"] });
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (err) => reject(new Error(`${name}: ${err.message}`)));
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    // Any HTTP answer means it is listening.
    const up = await Promise.race([
      fetch(endpoint, { method: "POST" }).then(
        () => true,
        () => false,
      ),
      failed,
    ]);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`${name} did not start within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  failed.catch(() => undefined);
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.removeAllListeners("exit");
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
