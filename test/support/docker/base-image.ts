/**
 * The image both Dockerfile stages start from (its NODE_IMAGE): node:22-slim where a registry answers; where none
 * does, an equivalent built here from Debian's and npm's packages (the two registries this machine reaches) and
 * tagged with a hash of its recipe, so it is built once and reused until the recipe changes.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { cacheRoot, type Engine } from "./engine.ts";

const run = promisify(execFile);

/** What node:22-slim holds today; move them with the Dockerfile's base. */
const nodeVersion = "22.23.5";
const npmVersion = "10.9.9";
const suite = "bookworm";
/** The CA bundle npm's TLS needs where the registry is reached through an inspecting proxy (as here). */
const caBundle = "/etc/ssl/certs/ca-certificates.crt";

export const registryBase = "node:22-slim";

/**
 * The base to build with: NODE_IMAGE when set, node:22-slim when present or pullable, else the offline build.
 * `log` hears which, and how long an offline build took.
 */
export async function baseImage(engine: Engine, log: (line: string) => void): Promise<string> {
  if (process.env.NODE_IMAGE) return process.env.NODE_IMAGE;
  const present = (tag: string) =>
    engine.docker(["image", "inspect", tag]).then(
      () => true,
      () => false,
    );
  if (await present(registryBase)) return registryBase;
  const pulled = await engine.docker(["pull", registryBase], { timeoutMs: 300_000 }).then(
    () => true,
    (err: unknown) => (log(`${registryBase} not pullable (${firstLine(err)}): the base is built offline`), false),
  );
  if (pulled) return registryBase;
  const tag = `webhook-platform-base:${recipeHash()}`;
  if (await present(tag)) return tag;
  const started = Date.now();
  await buildOffline(engine, tag);
  // Bases of earlier recipes are of no more use.
  const others = (await engine.docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "webhook-platform-base"]))
    .split("\n")
    .filter((t) => t && t !== tag);
  if (others.length) await engine.docker(["image", "rm", ...others]).catch(() => undefined);
  log(`base ${tag} built offline in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return tag;
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n").slice(-2).join(" ");

/** The Node binary's package in npm's registry for this machine's architecture (as the `node` package picks it). */
const nodePackage = () => `node-linux-${process.arch === "arm64" ? "arm64" : "x64"}`;

/**
 * A content hash of what the base is made from: the versions, the build steps (this file's text: a function's own
 * text differs between Node's type stripping and vitest's transform, and the prebuild and the checks must agree), the
 * CA bundle, the architecture.
 */
export function recipeHash(): string {
  const h = createHash("sha256");
  h.update(JSON.stringify({ nodeVersion, npmVersion, suite, mirror: debianMirror(), arch: process.arch }));
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  if (existsSync(caBundle)) h.update(readFileSync(caBundle));
  return h.digest("hex").slice(0, 16);
}

/** The Debian mirror apt uses here (deb822 or one-line sources), so debootstrap reaches what apt reaches. */
function debianMirror(): string {
  const files = ["/etc/apt/sources.list"];
  if (existsSync("/etc/apt/sources.list.d"))
    for (const f of readdirSync("/etc/apt/sources.list.d")) files.push(join("/etc/apt/sources.list.d", f));
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    const uri =
      /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text)?.[1] ??
      /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m.exec(text)?.[1];
    if (uri) return uri;
  }
  return "http://deb.debian.org/debian";
}

/**
 * debootstrap's minimal Debian, trimmed as debian:bookworm-slim is (no docs, man pages or locales); Node in
 * /usr/local/bin and npm in /usr/local/lib/node_modules as node's images lay them out; a `node` user with uid 1000;
 * the CA bundle, named by NODE_EXTRA_CA_CERTS.
 */
async function buildOffline(engine: Engine, tag: string): Promise<void> {
  const work = baseWorkDir;
  await clearBaseWork();
  mkdirSync(work, { recursive: true });
  const rootfs = join(work, "rootfs");
  try {
    await run("debootstrap", ["--variant=minbase", suite, rootfs, debianMirror()], { maxBuffer: 64 * 1024 * 1024 });
    await run("npm", ["pack", `${nodePackage()}@${nodeVersion}`, `npm@${npmVersion}`, "--silent"], { cwd: work });
    const nodeDir = join(work, "node");
    mkdirSync(nodeDir);
    await run("tar", ["-xzf", join(work, `${nodePackage()}-${nodeVersion}.tgz`), "-C", nodeDir]);
    await run("install", ["-m", "755", join(nodeDir, "package/bin/node"), join(rootfs, "usr/local/bin/node")]);
    const npmDir = join(rootfs, "usr/local/lib/node_modules/npm");
    mkdirSync(npmDir, { recursive: true });
    await run("tar", ["-xzf", join(work, `npm-${npmVersion}.tgz`), "-C", npmDir, "--strip-components=1"]);
    await run("ln", ["-s", "../lib/node_modules/npm/bin/npm-cli.js", join(rootfs, "usr/local/bin/npm")]);
    await run("ln", ["-s", "../lib/node_modules/npm/bin/npx-cli.js", join(rootfs, "usr/local/bin/npx")]);
    await run("chroot", [rootfs, "groupadd", "--gid", "1000", "node"]);
    await run("chroot", [
      rootfs,
      "useradd",
      "--uid",
      "1000",
      "--gid",
      "node",
      "--shell",
      "/bin/bash",
      "--create-home",
      "node",
    ]);
    if (existsSync(caBundle)) {
      mkdirSync(join(rootfs, "etc/ssl/certs"), { recursive: true });
      writeFileSync(join(rootfs, caBundle), readFileSync(caBundle));
    }
    for (const dir of ["usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info", "var/lib/apt/lists"]) {
      rmSync(join(rootfs, dir), { recursive: true, force: true });
      mkdirSync(join(rootfs, dir));
    }
    rmSync(join(rootfs, "var/cache/apt/archives"), { recursive: true, force: true });
    const changes = `--change 'ENV NODE_EXTRA_CA_CERTS=${caBundle}' --change 'CMD ["node"]'`;
    const imported = await engine.sh(`tar -C '${rootfs}' -c . | docker import ${changes} - '${tag}'`);
    if (imported.code !== 0) throw new Error(`docker import: ${imported.out}`);
  } finally {
    await clearBaseWork();
  }
}

/**
 * Where the offline base is put together: in the cache directory, whose lock lets one run at a time use it, so that
 * what an interrupted build left (a half-made rootfs, the /proc debootstrap mounts in it) is found and cleared by the
 * next one rather than left in /tmp.
 */
const baseWorkDir = join(cacheRoot, "base-build");

async function clearBaseWork(): Promise<void> {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point === baseWorkDir || point.startsWith(`${baseWorkDir}/`));
  // Deepest first; lazily, so that a mount still busy with a dying process is detached all the same.
  for (const point of mounts.sort().reverse()) await run("umount", ["-l", point]);
  rmSync(baseWorkDir, { recursive: true, force: true });
}
