/** The Fargate size of the API and worker tasks, and the V8 heap cap that size leaves room for. */

/** A Fargate task's size: CPU units (1024 a vCPU) and memory, in one of Fargate's combinations. */
export interface TaskSize {
  readonly cpu: number;
  readonly memoryLimitMiB: number;
}

/** 0.5 vCPU, 1 GiB per task: each service's default. */
export const defaultTaskSize: TaskSize = { cpu: 512, memoryLimitMiB: 1024 };

/**
 * A container's NODE_OPTIONS from its task's memory: V8's old space gets 70%, the rest is left to the young
 * generation, code, Buffers (request and response bodies) and Node itself, so V8 collects garbage before the task
 * reaches its limit. Set at run time per container, not in the image, where it also capped `npm ci`.
 *
 * The young generation's semi-spaces are capped at 8 MB (V8's own cap is 16): a request's garbage dies young either
 * way, and at c=128 the API's peak RSS drops by 16 MB with no throughput lost (docs/BENCHMARKS.md, 2026-12-07).
 */
export function nodeOptionsFor(memoryLimitMiB: number): string {
  return `--max-old-space-size=${Math.floor(memoryLimitMiB * 0.7)} --max-semi-space-size=8`;
}
