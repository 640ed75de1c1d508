/**
 * Calling the API from a page: the bearer credential (the console's admin token, the portal's session token) is
 * the caller's, held in its module's memory only; problems come back as ApiError with the API's own detail.
 */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function request<T>(credential: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${credential}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as { detail?: string; title?: string };
  if (!res.ok) throw new ApiError(res.status, json.detail ?? json.title ?? `HTTP ${res.status}`);
  return json as T;
}

/** A query string of the parameters that are set. */
export const query = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(
    Object.entries(params).flatMap(([k, v]) => (v === undefined || v === "" ? [] : [[k, String(v)]])),
  ).toString();
