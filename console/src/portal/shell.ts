/** What the portal's views ask of the page around them: where to go, what to say, whether they may write. */
export type Route =
  | { readonly view: "endpoints" }
  /** `secret`: just created, shown this once; `recoverSince`: just enabled, offer to recover from then. */
  | { readonly view: "endpoint"; readonly id: string; readonly secret?: string; readonly recoverSince?: string }
  | { readonly view: "events" }
  | { readonly view: "event"; readonly id: string }
  | { readonly view: "catalog" };

export interface Shell {
  /** Shows another view (redrawn from the API), with a line for the status area. */
  go(route: Route, notice?: string): void;
  /** A line for the status area, now. */
  say(text: string, kind?: "ok" | "error"): void;
  /** Runs an action; a refused session ends the page, any other failure is said in the status area. */
  guard(work: () => Promise<void>): Promise<void>;
  /** The session may only read: write buttons are not shown (and the API refuses writes anyway). */
  readonly readOnly: boolean;
}
