/** Tracing for the API, started before any other of its modules loads: main.ts imports this first. */
import { tracingSettings } from "../config.ts";
import { startTracing } from "../tracing/start.ts";

// Its remote parents are callers' traceparents: continued, but never obeyed on sampling.
startTracing("webhooks-api", tracingSettings(process.env), { untrustedParents: true });
