/** Asserts an RFC 9457 problem response and returns its body. */
import { expect } from "vitest";

export function expectProblem(res: { status: number; headers: Record<string, string>; text: string }, status: number) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(res.text) as Record<string, unknown>;
  expect(problem).toMatchObject({
    status,
    type: expect.stringMatching(/^https:\/\//),
    title: expect.any(String),
    detail: expect.any(String),
  });
  return problem;
}
