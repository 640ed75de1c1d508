/**
 * `npm run admin -- <command>`: the admin API from a shell, through the typed client (clients/typescript). Tables for
 * people, `--json` for scripts. Reads API_URL (default http://127.0.0.1:3000) and ADMIN_TOKEN.
 */
import { parseArgs } from "node:util";
import { createPlatformClient } from "../../clients/typescript/src/index.ts";
import { parseConfig } from "../config.ts";
import { runMain } from "../shutdown.ts";
import { commands, usage } from "./commands.ts";

runMain(async () => {
  const { values: o, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      endpoint: { type: "string", multiple: true },
      url: { type: "string" },
      type: { type: "string" },
      target: { type: "string" },
      "role-arn": { type: "string" },
      "event-type": { type: "string", multiple: true },
      event: { type: "string", multiple: true },
      tenant: { type: "string" },
      limit: { type: "string" },
      max: { type: "string" },
      "dry-run": { type: "boolean" },
      writable: { type: "boolean" },
      "expires-in": { type: "string" },
      grace: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      status: { type: "string" },
      window: { type: "string" },
      confirm: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (o.help || positionals.length === 0) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  // "stats" alone is a command; so is "stats history": the longest name that matches wins.
  const [noun = "", verb = "", ...rest] = positionals;
  const twoWords = `${noun} ${verb}`;
  const [command, args] = twoWords in commands ? [commands[twoWords]!, rest] : [commands[noun], positionals.slice(1)];
  if (!command) throw new Error(`unknown command '${twoWords.trim()}'\n${usage}`);

  const config = parseConfig(process.env, "cli");
  const api = createPlatformClient({ baseUrl: config.API_URL, token: config.ADMIN_TOKEN! });
  const result = await command(api, args, o);
  if (o.json) process.stdout.write(`${JSON.stringify(result.out, null, 2)}\n`);
  else if (result.rows)
    console.table(
      result.rows.map((r) =>
        Object.fromEntries(Object.entries(r).filter(([, v]) => typeof v !== "object" || v === null)),
      ),
    );
  else process.stdout.write(`${JSON.stringify(result.out)}\n`);
});
