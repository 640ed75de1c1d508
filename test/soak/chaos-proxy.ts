/**
 * The soak's fault proxy, in a process of its own in front of one emulator: it passes requests on, and at the rates
 * it is given answers some as a struggling AWS service would, for the SDK's retries and our code to meet. A
 * throttling error, an internal error (500), a slow answer (0.2-1 s), a connection dropped before the request is
 * passed on, or dropped after it was served (the write happened; the caller does not know). While the emulator is
 * down, every connection is dropped. Faults start with `POST /__chaos/on`, stop with `POST /__chaos/off`; both, and
 * `GET /__chaos`, answer the counts.
 *
 * Usage: chaos-proxy.ts <dynamodb|sqs> <upstream url> <port> '<rates as JSON>'
 */
import { Agent, createServer, request, type IncomingMessage } from "node:http";
import { z } from "zod";

const ratesSchema = z.strictObject({
  throttle: z.number().min(0).max(1),
  error: z.number().min(0).max(1),
  slow: z.number().min(0).max(1),
  drop: z.number().min(0).max(1),
  dropAfter: z.number().min(0).max(1),
});
export type ChaosRates = z.infer<typeof ratesSchema>;
export type ChaosCounts = Record<"passed" | keyof ChaosRates | "upstreamDown", number>;

const [service, upstream, port, ratesJson] = process.argv.slice(2);
if (service !== "dynamodb" && service !== "sqs") throw new Error("service: dynamodb or sqs");
const to = new URL(upstream!);
const rates = ratesSchema.parse(JSON.parse(ratesJson!));
let on = false;
const counts: ChaosCounts = { passed: 0, throttle: 0, error: 0, slow: 0, drop: 0, dropAfter: 0, upstreamDown: 0 };
const agent = new Agent({ keepAlive: true, maxSockets: 512 });

/** An AWS JSON-protocol error, as each service spells it (SQS also names its query-compatible code). */
function awsError(
  status: number,
  code: string,
  sqsCode: string,
): { status: number; headers: Record<string, string>; body: string } {
  const type = service === "dynamodb" ? `com.amazonaws.dynamodb.v20120810#${code}` : `com.amazonaws.sqs#${sqsCode}`;
  return {
    status,
    headers: {
      "content-type": "application/x-amz-json-1.0",
      ...(service === "sqs" ? { "x-amzn-query-error": `${sqsCode};${status < 500 ? "Sender" : "Receiver"}` } : {}),
    },
    body: JSON.stringify({ __type: type, message: "injected by the soak's fault proxy" }),
  };
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One of the faults, or undefined to pass the request on untouched. */
function draw(): keyof ChaosRates | undefined {
  if (!on) return undefined;
  let r = Math.random();
  for (const fault of Object.keys(rates) as (keyof ChaosRates)[]) {
    if (r < rates[fault]) return fault;
    r -= rates[fault];
  }
  return undefined;
}

const server = createServer((req, res) => {
  if (req.url?.startsWith("/__chaos")) {
    if (req.method === "POST") on = req.url === "/__chaos/on";
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(counts));
    return;
  }
  void bodyOf(req).then(async (body) => {
    const fault = draw();
    if (fault) counts[fault]++;
    else counts.passed++;
    if (fault === "drop") return req.socket.destroy();
    if (fault === "throttle" || fault === "error") {
      const e =
        fault === "throttle"
          ? awsError(400, "ThrottlingException", "RequestThrottled")
          : awsError(500, "InternalServerError", "InternalError");
      return res.writeHead(e.status, e.headers).end(e.body);
    }
    if (fault === "slow") await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
    const out = request(
      { hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        if (fault === "dropAfter") {
          answer.resume();
          answer.on("end", () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => {
      counts.upstreamDown++;
      req.socket.destroy();
    });
    out.end(body);
  });
});
server.listen(Number(port), "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`));
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
