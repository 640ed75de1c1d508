/** The container entry point: `node dist/services/main.js <api|worker|receiver|bootstrap>`. */
const role = process.argv[2];
switch (role) {
  case "api":
    await import("./api/main.ts");
    break;
  case "worker":
    await import("./worker/main.ts");
    break;
  case "receiver":
    await import("./receiver/main.ts");
    break;
  case "bootstrap":
    await import("./bootstrap/main.ts");
    break;
  default:
    process.stderr.write(`usage: main <api|worker|receiver|bootstrap> (got ${role ?? "nothing"})\n`);
    process.exit(2);
}
export {};
