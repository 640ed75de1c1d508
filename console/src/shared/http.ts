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
  const json = (await res.json().catch(() => ({}))) as {
    detail?: string;
    title?: string;
    errors?: { path: string; pointer?: string; message: string }[];
  };
  if (!res.ok) {
    // A 422 names each problem (a filter's by its node): say them, not only that there were some.
    const each = (json.errors ?? []).map((e) => `${e.path}${e.pointer ? ` ${e.pointer || "/"}` : ""}: ${e.message}`);
    const detail = json.detail ?? json.title ?? `HTTP ${res.status}`;
    throw new ApiError(res.status, each.length ? `${detail} ${each.join("; ")}` : detail);
  }
  return json as T;
}

/** A query string of the parameters that are set. */
export const query = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(
    Object.entries(params).flatMap(([k, v]) => (v === undefined || v === "" ? [] : [[k, String(v)]])),
  ).toString();
