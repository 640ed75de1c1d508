/**
 * The static bounds a tenant's JSON Schema keeps before it is stored, so that checking any payload the API accepts
 * stays cheap whatever the schema says: its size and nesting, references within itself only, no reference loop that
 * does not descend into the payload, patterns listed for the linear-time proof, and a bounded cost per payload value.
 *
 * The cost: every value of a payload sits at a location (a path of property names and array positions); the schema
 * nodes that apply there are found by following the schema's keywords, and each costs units by what it checks (an
 * `anyOf` branch that fails costs error objects, a `pattern` a scan). A location that can repeat (under `items` or
 * `additionalProperties`) can hold a value at every other byte of the payload, so its cost counts once per possible
 * value; a location that cannot repeat counts once. Their sum must stay within a budget that `npm run bench` turns
 * into time on 256 KiB payloads built to be the worst for schemas at the budget.
 */

export interface SchemaProblem {
  /** RFC 6901 pointer to the offending node within the schema. */
  readonly pointer: string;
  readonly message: string;
}

export const draft202012 = "https://json-schema.org/draft/2020-12/schema";

export const schemaLimits = {
  maxBytes: 65_536,
  /** Objects and arrays nested in the schema document. */
  maxNesting: 32,
  /** Distinct `pattern`s and `patternProperties` keys, each proved linear before the schema is stored. */
  maxPatterns: 32,
  /** Cost units a whole payload's check may take (see the module comment; the bench turns them into time). */
  costBudget: 10_000_000,
  /** Distinct sets of schema nodes the cost analysis may visit before it gives up (and refuses). */
  maxStates: 20_000,
} as const;

export interface SchemaPattern {
  readonly pointer: string;
  readonly source: string;
}

export interface SchemaBounds {
  readonly problems: SchemaProblem[];
  /** Every regular expression in the schema, for the linear-time proof. */
  readonly patterns: SchemaPattern[];
  /** The cost bound of the worst payload (units; see schemaLimits.costBudget). */
  readonly cost: number;
}

const refused: Readonly<Record<string, string>> = {
  $id: "is not supported: a schema has no identifier of its own (references stay within it)",
  $anchor: "is not supported: refer to a node by its JSON pointer (#/$defs/…)",
  $dynamicAnchor: "is not supported",
  $dynamicRef: "is not supported",
  $recursiveAnchor: "is not supported",
  $recursiveRef: "is not supported",
  $vocabulary: "is not supported",
};
/** Keywords whose values hold subschemas: by name, in a list, or one. */
export const schemaMaps = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"] as const;
export const schemaLists = ["allOf", "anyOf", "oneOf", "prefixItems"] as const;
export const schemaSingles = [
  "additionalProperties",
  "propertyNames",
  "unevaluatedProperties",
  "items",
  "contains",
  "unevaluatedItems",
  "not",
  "if",
  "then",
  "else",
] as const;
/** Cost of one evaluation reaching another in place, by keyword (a failed anyOf/oneOf branch builds error objects). */
const inPlaceWeight: Readonly<Record<string, number>> = {
  allOf: 2,
  anyOf: 24,
  oneOf: 24,
  not: 12,
  if: 4,
  then: 4,
  else: 4,
  $ref: 24,
  dependentSchemas: 4,
};
/** Keywords that scan a string, by units per value (a string of two bytes, at the worst). */
const scanning: Readonly<Record<string, number>> = { format: 32, pattern: 32, minLength: 8, maxLength: 8 };
const scalarTypes = new Set(["string", "number", "integer", "boolean", "null"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const segment = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

interface SchemaNode {
  readonly pointer: string;
  /** Units one evaluation costs here, in-place edges included. */
  readonly cost: number;
  readonly inPlace: number[];
  readonly named: Map<string, number[]>;
  /** Applied to every property of an object (additionalProperties, patternProperties, …), conservatively. */
  readonly anyProperty: number[];
  readonly anyItem: number[];
  /** Units each property of an object costs this node (additionalProperties checks the key against `properties`). */
  readonly perProperty: number;
  readonly perItem: number;
}

function nesting(value: unknown, limit: number): boolean {
  if (limit < 0) return true;
  if (Array.isArray(value)) return value.some((v) => nesting(v, limit - 1));
  if (isObject(value)) return Object.values(value).some((v) => nesting(v, limit - 1));
  return false;
}

/** Size, nesting, references, patterns and cost of a schema: the problems found, none when it may be stored. */
export function schemaBounds(
  schema: unknown,
  payload: { readonly maxBytes: number; readonly maxDepth: number },
): SchemaBounds {
  const problems: SchemaProblem[] = [];
  const patterns: SchemaPattern[] = [];
  const say = (pointer: string, message: string) => problems.push({ pointer, message });
  const bytes = Buffer.byteLength(JSON.stringify(schema));
  if (bytes > schemaLimits.maxBytes) say("", `is ${bytes} bytes; at most ${schemaLimits.maxBytes}`);
  else if (nesting(schema, schemaLimits.maxNesting)) say("", `nests deeper than ${schemaLimits.maxNesting} levels`);
  if (problems.length) return { problems, patterns, cost: Infinity };

  // 1. Every subschema, by its pointer, with its references still unresolved.
  const index = new Map<string, number>();
  const raw: { pointer: string; value: unknown; refs: [string, string][] }[] = [];
  const walk = (value: unknown, pointer: string) => {
    index.set(pointer, raw.length);
    const entry = { pointer, value, refs: [] as [string, string][] };
    raw.push(entry);
    if (typeof value === "boolean") return;
    if (!isObject(value)) {
      say(pointer, "a schema is an object or a boolean");
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      const at = `${pointer}/${segment(key)}`;
      if (key in refused) say(at, `${key} ${refused[key]}`);
      else if (key === "$schema") {
        if (pointer !== "" || v !== draft202012) say(at, `only "${draft202012}", at the top`);
      } else if (key === "$ref") {
        if (typeof v !== "string" || !(v === "#" || v.startsWith("#/")))
          say(at, "only references within this schema (# or #/…): nothing is fetched");
        else entry.refs.push(["$ref", v]);
      } else if (key === "pattern" && typeof v === "string") patterns.push({ pointer: at, source: v });
      else if ((schemaMaps as readonly string[]).includes(key) && isObject(v)) {
        for (const [name, sub] of Object.entries(v)) {
          if (key === "patternProperties") patterns.push({ pointer: `${at}/${segment(name)}`, source: name });
          walk(sub, `${at}/${segment(name)}`);
        }
      } else if ((schemaLists as readonly string[]).includes(key) && Array.isArray(v))
        v.forEach((sub, i) => walk(sub, `${at}/${i}`));
      else if ((schemaSingles as readonly string[]).includes(key)) walk(v, at);
    }
    if (value.uniqueItems === true) {
      const types = isObject(value.items) ? value.items.type : undefined;
      const list = Array.isArray(types) ? types : [types];
      if (!list.every((t) => typeof t === "string" && scalarTypes.has(t)))
        say(
          `${pointer}/uniqueItems`,
          "needs `items` with a scalar `type` (string, number, integer, boolean, null): comparing objects pairwise is quadratic",
        );
    }
  };
  walk(schema, "");
  if (new Set(patterns.map((p) => p.source)).size > schemaLimits.maxPatterns)
    say("", `has more than ${schemaLimits.maxPatterns} distinct patterns`);
  if (problems.length) return { problems, patterns, cost: Infinity };

  // 2. The graph: references resolved, and what applies where.
  const target = (ref: string, from: string): number | undefined => {
    const pointer = ref === "#" ? "" : decodeURIComponent(ref.slice(1));
    const i = index.get(pointer);
    if (i === undefined) say(from, `${ref} does not name a subschema of this schema`);
    return i;
  };
  const nodes: SchemaNode[] = raw.map(({ pointer, value, refs }) => {
    const at = (...keys: string[]) => index.get([pointer, ...keys.map(segment)].join("/"))!;
    const inPlace: number[] = [];
    let cost = 2;
    const named = new Map<string, number[]>();
    const anyProperty: number[] = [];
    const anyItem: number[] = [];
    let perProperty = 0;
    let perItem = 0;
    if (isObject(value)) {
      for (const [key, v] of Object.entries(value)) {
        cost += 1;
        if (key === "enum" && Array.isArray(v)) cost += v.length + Math.ceil(JSON.stringify(v).length / 16);
        else if (key === "const") cost += 2 + Math.ceil(JSON.stringify(v).length / 16);
        else if (key === "required" && Array.isArray(v)) cost += 2 * v.length;
        else if (key === "dependentRequired" && isObject(v)) cost += JSON.stringify(v).length / 8;
        else if (key in scanning) cost += scanning[key]!;
        if (key in inPlaceWeight) {
          const targets =
            key === "$ref"
              ? []
              : Array.isArray(v)
                ? v.map((_, i) => at(key, String(i)))
                : isObject(v) && key === "dependentSchemas"
                  ? Object.keys(v).map((name) => at(key, name))
                  : [at(key)];
          for (const t of targets) inPlace.push(t);
          cost += inPlaceWeight[key]! * targets.length;
        }
      }
      for (const [, ref] of refs) {
        const t = target(ref, `${pointer}/$ref`);
        if (t !== undefined) {
          inPlace.push(t);
          cost += inPlaceWeight.$ref!;
        }
      }
      if (isObject(value.properties)) {
        cost += Object.keys(value.properties).length;
        for (const name of Object.keys(value.properties)) named.set(name, [at("properties", name)]);
      }
      if (isObject(value.patternProperties)) {
        for (const name of Object.keys(value.patternProperties)) anyProperty.push(at("patternProperties", name));
        perProperty += 32 * Object.keys(value.patternProperties).length;
      }
      for (const key of ["additionalProperties", "unevaluatedProperties", "propertyNames"])
        if (key in value) {
          anyProperty.push(at(key));
          perProperty += key === "additionalProperties" ? 2 : 8;
        }
      if (Array.isArray(value.prefixItems))
        value.prefixItems.forEach((_, i) => anyItem.push(at("prefixItems", String(i))));
      for (const key of ["items", "contains", "unevaluatedItems"]) if (key in value) anyItem.push(at(key));
      if (value.uniqueItems === true) perItem += 4;
      if ("unevaluatedItems" in value) perItem += 8;
    }
    return { pointer, cost, inPlace, named, anyProperty, anyItem, perProperty, perItem };
  });
  if (problems.length) return { problems, patterns, cost: Infinity };

  // 3. No loop of references that stays on the same value: it would never end.
  const state = new Uint8Array(nodes.length);
  const loop = (i: number): number | undefined => {
    if (state[i] === 2) return undefined;
    if (state[i] === 1) return i;
    state[i] = 1;
    for (const t of nodes[i]!.inPlace) {
      const found = loop(t);
      if (found !== undefined) return found;
    }
    state[i] = 2;
    return undefined;
  };
  for (let i = 0; i < nodes.length; i++) {
    const found = loop(i);
    if (found !== undefined) {
      say(nodes[found]!.pointer, "refers back to itself without descending into the payload: it would never end");
      return { problems, patterns, cost: Infinity };
    }
  }

  // 4. The cost: the schema nodes that apply at each payload location, with how many ways each is reached.
  const reach = new Map<number, Map<number, number>>();
  const reached = (i: number): Map<number, number> => {
    let r = reach.get(i);
    if (r) return r;
    r = new Map([[i, 1]]);
    for (const t of nodes[i]!.inPlace)
      for (const [n, ways] of reached(t)) r.set(n, Math.min(1e12, (r.get(n) ?? 0) + ways));
    reach.set(i, r);
    return r;
  };
  type Location = { readonly at: Map<number, number>; readonly extra: number };
  const locate = (entries: [number, number][], extra: number): Location => {
    const at = new Map<number, number>();
    for (const [i, times] of entries)
      for (const [n, ways] of reached(i)) at.set(n, Math.min(1e12, (at.get(n) ?? 0) + ways * times));
    return { at, extra };
  };
  const costOf = (l: Location) => {
    let c = l.extra;
    for (const [n, ways] of l.at) c += ways * nodes[n]!.cost;
    return c;
  };
  const children = (l: Location): { location: Location; repeats: boolean }[] => {
    const all = [...l.at];
    const names = new Set(all.flatMap(([n]) => [...nodes[n]!.named.keys()]));
    const property = (name: string | undefined) => {
      const entries: [number, number][] = [];
      let extra = 0;
      for (const [n, ways] of all) {
        const node = nodes[n]!;
        for (const t of (name !== undefined && node.named.get(name)) || []) entries.push([t, ways]);
        for (const t of node.anyProperty) entries.push([t, ways]);
        extra += ways * node.perProperty;
      }
      return locate(entries, extra);
    };
    const items = all.flatMap(([n, ways]) => nodes[n]!.anyItem.map((t): [number, number] => [t, ways]));
    const perItem = all.reduce((sum, [n, ways]) => sum + ways * nodes[n]!.perItem, 0);
    return [
      ...[...names].map((name) => ({ location: property(name), repeats: false })),
      { location: property(undefined), repeats: true },
      { location: locate(items, perItem), repeats: true },
    ].filter((c) => c.location.at.size > 0 || c.location.extra > 0);
  };

  const values = Math.floor(payload.maxBytes / 2);
  let worstRepeating = 0;
  let worstOnce = 0;
  let onceSum = 0;
  let onceRecurs = false;
  let worstPointer = "";
  const seen = new Set<string>();
  const keyOf = (l: Location, repeats: boolean) =>
    `${repeats ? "r" : "o"}${l.extra}:${[...l.at].sort((a, b) => a[0] - b[0]).join(";")}`;
  const stack: { location: Location; repeats: boolean; depth: number }[] = [
    { location: locate([[0, 1]], 0), repeats: false, depth: 1 },
  ];
  const bound = () => values * worstRepeating + (onceRecurs ? values * worstOnce : onceSum);
  while (stack.length > 0) {
    const { location, repeats, depth } = stack.pop()!;
    const key = keyOf(location, repeats);
    if (seen.has(key)) {
      if (!repeats) onceRecurs = true;
      continue;
    }
    seen.add(key);
    if (seen.size > schemaLimits.maxStates) {
      say("", "is too intricate to bound what checking a payload costs: simplify its combinations of subschemas");
      return { problems, patterns, cost: Infinity };
    }
    const cost = costOf(location);
    const worst = repeats ? worstRepeating : worstOnce;
    if (cost > worst) {
      if (repeats) worstRepeating = cost;
      else worstOnce = cost;
      const dearest = [...location.at].sort((a, b) => b[1] * nodes[b[0]]!.cost - a[1] * nodes[a[0]]!.cost)[0];
      if (dearest && (repeats || worstRepeating === 0)) worstPointer = nodes[dearest[0]]!.pointer;
    }
    if (!repeats) onceSum += cost;
    if (bound() > schemaLimits.costBudget) break;
    if (depth < payload.maxDepth)
      for (const c of children(location))
        stack.push({ location: c.location, repeats: repeats || c.repeats, depth: depth + 1 });
  }
  const cost = bound();
  if (cost > schemaLimits.costBudget)
    say(
      worstPointer,
      `checking a payload of ${payload.maxBytes} bytes could cost ${Math.round(cost)} units, more than ${schemaLimits.costBudget}: ` +
        "too many subschemas (anyOf/oneOf branches, references) apply to the same value here",
    );
  return { problems, patterns, cost };
}

/** The schema with every `$ref` (within it) rewritten by `rewrite`: what publishing it inside another document needs. */
export function withRefs(schema: unknown, rewrite: (ref: string) => string): unknown {
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(schema)) {
    if (key === "$ref" && typeof v === "string") out[key] = rewrite(v);
    else if ((schemaMaps as readonly string[]).includes(key) && isObject(v))
      out[key] = Object.fromEntries(Object.entries(v).map(([k, sub]) => [k, withRefs(sub, rewrite)]));
    else if ((schemaLists as readonly string[]).includes(key) && Array.isArray(v))
      out[key] = v.map((sub) => withRefs(sub, rewrite));
    else if ((schemaSingles as readonly string[]).includes(key)) out[key] = withRefs(v, rewrite);
    else out[key] = v;
  }
  return out;
}
