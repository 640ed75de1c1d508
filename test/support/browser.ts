/** The API on a loopback port and headless Chromium (Debian's, driven by playwright-core) for the e2e tests. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type BrowserContext } from "playwright-core";
import type { Stack } from "./stack.ts";

export interface BrowserRig {
  /** `http://127.0.0.1:<port>` of the API. */
  readonly base: string;
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function openBrowser(stack: Stack): Promise<BrowserRig> {
  const server: Server = stack.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    context,
    async close() {
      await browser.close();
      server.close();
    },
  };
}
