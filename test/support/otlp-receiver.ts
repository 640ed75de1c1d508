/**
 * An OTLP/HTTP trace receiver on loopback (what a collector is to the services): it takes the JSON encoding at
 * POST /v1/traces, as the OTLP exporter sends it, and keeps every span, flattened. Nothing is sent anywhere else.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

const anyValue = z.object({
  stringValue: z.string().optional(),
  intValue: z.union([z.number(), z.string()]).optional(),
  doubleValue: z.number().optional(),
  boolValue: z.boolean().optional(),
});
const keyValues = z.array(z.object({ key: z.string(), value: anyValue })).default([]);
const requestSchema = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({ attributes: keyValues }),
      scopeSpans: z.array(
        z.object({
          spans: z.array(
            z.object({
              traceId: z.string(),
              spanId: z.string(),
              parentSpanId: z.string().optional(),
              name: z.string(),
              kind: z.number(),
              startTimeUnixNano: z.union([z.string(), z.number()]),
              endTimeUnixNano: z.union([z.string(), z.number()]),
              attributes: keyValues,
              events: z.array(z.object({ name: z.string(), attributes: keyValues })).default([]),
              links: z.array(z.object({ traceId: z.string(), spanId: z.string(), attributes: keyValues })).default([]),
              status: z.object({ code: z.number().optional() }).optional(),
            }),
          ),
        }),
      ),
    }),
  ),
});

export type AttributeValue = string | number | boolean;

export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP's numbering: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Record<string, AttributeValue>;
  readonly links: { traceId: string; spanId: string }[];
  /** Every string the export carried for this span: attributes, events, links, its resource. */
  readonly allText: string;
  readonly failed: boolean;
}

const flatten = (kv: z.infer<typeof keyValues>): Record<string, AttributeValue> =>
  Object.fromEntries(
    kv.map(({ key, value: v }) => [key, v.stringValue ?? v.boolValue ?? v.doubleValue ?? Number(v.intValue)]),
  );

export interface OtlpReceiver {
  /** The value for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (
        req.method !== "POST" ||
        req.url !== "/v1/traces" ||
        !String(req.headers["content-type"]).startsWith("application/json")
      ) {
        res.writeHead(404).end();
        return;
      }
      const request = requestSchema.parse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      for (const rs of request.resourceSpans) {
        const resource = flatten(rs.resource.attributes);
        for (const s of rs.scopeSpans.flatMap((ss) => ss.spans)) {
          spans.push({
            service: String(resource["service.name"]),
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            kind: s.kind,
            startNs: BigInt(s.startTimeUnixNano),
            endNs: BigInt(s.endTimeUnixNano),
            attributes: flatten(s.attributes),
            links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
            allText: JSON.stringify([rs.resource, s.attributes, s.events, s.links]),
            failed: s.status?.code === 2,
          });
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
