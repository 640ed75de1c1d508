/** Tracing for the worker, started before any other of its modules loads: main.ts imports this first. */
import { tracingSettings } from "../config.ts";
import { startTracing } from "../tracing/start.ts";

startTracing("webhooks-worker", tracingSettings(process.env));
