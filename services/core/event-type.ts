/** An event's type and endpoint event-type filters (`order.paid`, `order.*`, `*`). */

/** The top-level `type` field, else `event`, else none. */
export function eventTypeOf(body: Readonly<Record<string, unknown>>): string | undefined {
  for (const field of ["type", "event"]) {
    const value = body[field];
    if (typeof value === "string" && value.length > 0) return value;
  }
  return undefined;
}

/** No filter means every event; `prefix.*` matches any type below `prefix.`. */
export function matchesEventTypes(filter: readonly string[] | undefined, type: string | undefined): boolean {
  if (!filter || filter.length === 0) return true;
  return filter.some((f) => {
    if (f === "*") return true;
    if (type === undefined) return false;
    return f.endsWith(".*") ? type.startsWith(f.slice(0, -1)) : f === type;
  });
}
