/** The pino logger both services use: JSON lines, secrets and credentials redacted wherever they appear. */
import { pino, type Logger } from "pino";

export const redactPaths = [
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "api_key",
  "*.api_key",
  "apiKey",
  "*.apiKey",
  "secret",
  "*.secret",
  "secrets",
  "*.secrets",
  "adminToken",
  "ADMIN_TOKEN",
];

export function createLogger(level: string, name: string): Logger {
  return pino({ level, name, redact: { paths: redactPaths, censor: "[redacted]" } });
}
