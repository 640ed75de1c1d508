/**
 * An HTTP proxy in front of an AWS emulator that knows which operation each request is (the JSON protocols'
 * `x-amz-target`, the query protocols' `Action=`): it counts them, answers the ones a test names with an AWS
 * throttling error instead of passing them on, as a throttled service would, holds back the ones a test names, and
 * loses the answers of the ones a test names.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface AwsFaultProxy {
  readonly url: string;
  /** Requests seen per operation (`AssumeRole`, `SendMessage`, …), throttled ones included. */
  count(operation: string): number;
  /** Answers the next `times` calls of `operation` with a throttling error (SQS's JSON protocol: RequestThrottled). */
  throttle(operation: string, times: number): void;
  /** Passes on calls of `operation` whose body contains `marker` only `ms` after they arrive (a slow service). */
  delay(operation: string, marker: string, ms: number): void;
  /** Serves the next `times` calls of `operation`, then drops the connection instead of answering (a lost answer). */
  loseAnswer(operation: string, times: number): void;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `AmazonSQS.SendMessage` → SendMessage; a form body's `Action=AssumeRole` → AssumeRole. */
function operationOf(req: IncomingMessage, body: Buffer): string {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return target.slice(target.lastIndexOf(".") + 1);
  return new URLSearchParams(body.toString("utf8")).get("Action") ?? "unknown";
}

export async function startAwsFaultProxy(upstream: string): Promise<AwsFaultProxy> {
  const to = new URL(upstream);
  const counts = new Map<string, number>();
  const throttled = new Map<string, number>();
  const delays: { operation: string; marker: string; ms: number }[] = [];
  const lost = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    void bodyOf(req).then(async (body) => {
      const op = operationOf(req, body);
      counts.set(op, (counts.get(op) ?? 0) + 1);
      const left = throttled.get(op) ?? 0;
      if (left > 0) {
        throttled.set(op, left - 1);
        // As SQS answers in its JSON protocol (the SDK reads the query-compatible code from x-amzn-query-error).
        res.writeHead(400, {
          "content-type": "application/x-amz-json-1.0",
          "x-amzn-query-error": "RequestThrottled;Sender",
        });
        res.end(JSON.stringify({ __type: "com.amazonaws.sqs#RequestThrottled", message: "Rate exceeded" }));
        return;
      }
      const held = delays.find((d) => d.operation === op && body.includes(d.marker))?.ms ?? 0;
      if (held > 0) await new Promise((r) => setTimeout(r, held));
      const out = request(
        { hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const lose = lost.get(op) ?? 0;
          if (lose > 0) {
            lost.set(op, lose - 1);
            answer.resume();
            answer.on("end", () => res.destroy());
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on("error", () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: (op) => counts.get(op) ?? 0,
    throttle: (op, times) => void throttled.set(op, times),
    delay: (operation, marker, ms) => void delays.push({ operation, marker, ms }),
    loseAnswer: (op, times) => void lost.set(op, times),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
