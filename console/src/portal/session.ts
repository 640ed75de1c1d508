/**
 * The portal session: the token from the link's fragment, taken off the address bar at once and kept in this
 * module's memory only (never in storage or a cookie, so a reload needs the link again). Its claims are read for
 * the page's sake (whose, read-only, until when); the API alone decides what the token may do.
 */
export interface Claims {
  readonly tenantId: string;
  readonly readOnly: boolean;
  /** Epoch ms. */
  readonly expiresAt: number;
}

let token = "";
let claims: Claims | undefined;

function decode(t: string): Claims | undefined {
  try {
    const payload = t.slice("wps_".length).split(".")[0] ?? "";
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as {
      t?: unknown;
      ro?: unknown;
      exp?: unknown;
    };
    if (typeof json.t !== "string" || typeof json.exp !== "number") return undefined;
    return { tenantId: json.t, readOnly: json.ro !== false, expiresAt: json.exp * 1000 };
  } catch {
    return undefined;
  }
}

/** Takes the token out of the address (history included); false when the link had none. */
export function takeToken(): boolean {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  history.replaceState(null, "", `${location.pathname}${location.search}`);
  if (!match?.[1]) return false;
  token = decodeURIComponent(match[1]);
  claims = decode(token);
  return true;
}

export const credential = (): string => token;

/** What the token says of itself; a token that says nothing readable is taken as read-only (the API refuses it anyway). */
export const current = (): Claims => claims ?? { tenantId: "", readOnly: true, expiresAt: 0 };

export function end(): void {
  token = "";
  claims = undefined;
}
