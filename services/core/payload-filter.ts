/**
 * Endpoint filters on an event's content: a small, bounded JSON language checked when an endpoint is written and
 * matched at fan-out. A condition is an object; each of its keys is an operator (`$…`) or a field of the value at
 * hand, and all must hold:
 *
 *   {"data": {"amount": {"$gt": 100}, "currency": {"$in": ["EUR", "USD"]}}}
 *
 * A field's condition is an object (its own conditions, nested) or a scalar (equal to it). Comparisons: `$eq $neq
 * $in $nin $gt $gte $lt $lte $exists $startsWith`; logic: `$and $or` (lists of conditions) and `$not` (a condition),
 * each applying to the value at hand. On an array, `$eq` and `$in` hold when any element matches (`$neq` and `$nin`
 * when none does). A field absent from the payload fails every comparison but `$neq`, `$nin` and `$exists: false`.
 */

export type PayloadFilter = Readonly<Record<string, unknown>>;

export const filterLimits = {
  /** Nested conditions, the filter itself being the first. */
  maxDepth: 5,
  /** Operators, each implicit equality counting as one. */
  maxOperators: 50,
  /** Its JSON text, so that 50 endpoints' filters fit in the tenant's item. */
  maxBytes: 4096,
  maxListLength: 100,
  maxFieldLength: 200,
} as const;

export interface FilterProblem {
  /** RFC 6901 pointer to the offending node within the filter. */
  readonly pointer: string;
  readonly message: string;
}

type Scalar = string | number | boolean | null;
const comparisons = ["$eq", "$neq", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists", "$startsWith"] as const;
const logical = ["$and", "$or", "$not"] as const;
type Operator = (typeof comparisons)[number] | (typeof logical)[number];
const operators: ReadonlySet<string> = new Set<string>([...comparisons, ...logical]);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

export const pointerSegment = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

/** Every problem of a filter (none: it may be stored), each at the node it is about. */
export function filterProblems(filter: unknown): FilterProblem[] {
  const problems: FilterProblem[] = [];
  let count = 0;
  const say = (pointer: string, message: string) => problems.push({ pointer, message });

  const operand = (op: Operator, value: unknown, at: string, depth: number) => {
    switch (op) {
      case "$and":
      case "$or":
        if (!Array.isArray(value) || value.length === 0 || value.length > filterLimits.maxListLength) {
          say(at, `${op} takes a list of 1 to ${filterLimits.maxListLength} conditions`);
          return;
        }
        value.forEach((c, i) => condition(c, `${at}/${i}`, depth + 1));
        return;
      case "$not":
        condition(value, at, depth + 1);
        return;
      case "$eq":
      case "$neq":
        if (!isScalar(value)) say(at, `${op} takes a string, number, boolean or null`);
        return;
      case "$in":
      case "$nin":
        if (!Array.isArray(value) || value.length === 0 || value.length > filterLimits.maxListLength)
          say(at, `${op} takes a list of 1 to ${filterLimits.maxListLength} values`);
        else value.forEach((v, i) => isScalar(v) || say(`${at}/${i}`, "a string, number, boolean or null"));
        return;
      case "$gt":
      case "$gte":
      case "$lt":
      case "$lte":
        if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value)))
          say(at, `${op} takes a number or a string`);
        return;
      case "$exists":
        if (typeof value !== "boolean") say(at, "$exists takes true or false");
        return;
      case "$startsWith":
        if (typeof value !== "string" || value.length === 0) say(at, "$startsWith takes a non-empty string");
        return;
    }
  };

  function condition(node: unknown, at: string, depth: number): void {
    if (!isPlainObject(node)) {
      say(at, "a condition is an object");
      return;
    }
    if (depth > filterLimits.maxDepth) {
      say(at, `nests deeper than ${filterLimits.maxDepth} levels`);
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      const here = `${at}/${pointerSegment(key)}`;
      if (key.startsWith("$")) {
        if (!operators.has(key)) {
          say(here, `unknown operator ${key}; one of ${[...operators].join(" ")}`);
          continue;
        }
        count++;
        operand(key as Operator, value, here, depth);
      } else if (key.length === 0 || key.length > filterLimits.maxFieldLength)
        say(here, `a field name is 1 to ${filterLimits.maxFieldLength} characters`);
      else if (isPlainObject(value)) condition(value, here, depth + 1);
      else if (isScalar(value)) count++;
      else say(here, "a field takes a condition object or a string, number, boolean or null (use $in for a list)");
    }
  }

  if (!isPlainObject(filter)) return [{ pointer: "", message: "a filter is an object" }];
  const bytes = Buffer.byteLength(JSON.stringify(filter));
  if (bytes > filterLimits.maxBytes)
    return [{ pointer: "", message: `is ${bytes} bytes; at most ${filterLimits.maxBytes}` }];
  condition(filter, "", 1);
  if (count > filterLimits.maxOperators)
    say("", `has ${count} operators; at most ${filterLimits.maxOperators} (each implicit equality counts as one)`);
  return problems;
}

interface Found {
  readonly present: boolean;
  readonly value: unknown;
}
const absent: Found = { present: false, value: undefined };

function child(of: Found, key: string): Found {
  const v = of.value;
  if (isPlainObject(v)) return Object.hasOwn(v, key) ? { present: true, value: v[key] } : absent;
  if (Array.isArray(v) && /^(0|[1-9]\d{0,8})$/.test(key)) {
    const i = Number(key);
    return i < v.length ? { present: true, value: v[i] } : absent;
  }
  return absent;
}

/** The value, or any element of it when it is an array, is `equal` to the scalar. */
const anyEqual = (value: unknown, scalar: unknown) =>
  Array.isArray(value) ? value.some((e) => e === scalar) : value === scalar;

function order(value: unknown, operand: unknown): number | undefined {
  if (typeof value === "number" && typeof operand === "number") return value - operand;
  if (typeof value === "string" && typeof operand === "string") return value < operand ? -1 : value > operand ? 1 : 0;
  return undefined;
}

function compare(op: string, at: Found, operand: unknown): boolean {
  const { present, value } = at;
  switch (op) {
    case "$eq":
      return present && anyEqual(value, operand);
    case "$neq":
      return !(present && anyEqual(value, operand));
    case "$in":
      return present && (operand as unknown[]).some((o) => anyEqual(value, o));
    case "$nin":
      return !(present && (operand as unknown[]).some((o) => anyEqual(value, o)));
    case "$exists":
      return present === operand;
    case "$startsWith":
      return present && typeof value === "string" && value.startsWith(operand as string);
  }
  const d = present ? order(value, operand) : undefined;
  if (d === undefined) return false;
  return op === "$gt" ? d > 0 : op === "$gte" ? d >= 0 : op === "$lt" ? d < 0 : d <= 0;
}

function holds(condition: PayloadFilter, at: Found): boolean {
  for (const key in condition) {
    const operand = condition[key];
    let ok: boolean;
    if (key === "$and") ok = (operand as PayloadFilter[]).every((c) => holds(c, at));
    else if (key === "$or") ok = (operand as PayloadFilter[]).some((c) => holds(c, at));
    else if (key === "$not") ok = !holds(operand as PayloadFilter, at);
    else if (key.startsWith("$")) ok = compare(key, at, operand);
    else {
      const next = child(at, key);
      ok = isPlainObject(operand) ? holds(operand, next) : compare("$eq", next, operand);
    }
    if (!ok) return false;
  }
  return true;
}

/** Whether the payload passes the filter (one that `filterProblems` found nothing wrong with). */
export function matchesFilter(filter: PayloadFilter, payload: unknown): boolean {
  return holds(filter, { present: true, value: payload });
}
