/**
 * Evaluates CloudWatch metric-math expressions of the forms our stack uses (numbers, metric ids, + - * /, the
 * comparisons < > <= >=, IF(c, a, b), FILL(m, v), MAX([a, b, ...])), so a test can run a policy's own expression.
 * A metric id bound to undefined has no data (FILL replaces it; anything else with it is undefined).
 */
type Value = number | undefined;

export function evaluateMetricMath(expression: string, metrics: Readonly<Record<string, Value>>): Value {
  const tokens = expression.match(/\d+(\.\d+)?|[A-Za-z_]\w*|<=|>=|[-+*/<>(),[\]]/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const t = tokens[at++];
    if (t === undefined || (expected !== undefined && t !== expected))
      throw new Error(`metric math: expected ${expected ?? "more"} at ${at} in ${expression}`);
    return t;
  };
  const lift = (f: (a: number, b: number) => number) => (a: Value, b: Value) =>
    a === undefined || b === undefined ? undefined : f(a, b);
  const binary: Record<string, (a: Value, b: Value) => Value> = {
    "+": lift((a, b) => a + b),
    "-": lift((a, b) => a - b),
    "*": lift((a, b) => a * b),
    "/": lift((a, b) => a / b),
    "<": lift((a, b) => Number(a < b)),
    ">": lift((a, b) => Number(a > b)),
    "<=": lift((a, b) => Number(a <= b)),
    ">=": lift((a, b) => Number(a >= b)),
  };
  const levels = [
    ["<", ">", "<=", ">="],
    ["+", "-"],
    ["*", "/"],
  ];
  const parse = (level: number): Value => {
    if (level === levels.length) return primary();
    let left = parse(level + 1);
    while (levels[level]!.includes(peek() ?? "")) left = binary[take()]!(left, parse(level + 1));
    return left;
  };
  const args = (close: string): Value[] => {
    const out = [parse(0)];
    while (peek() === ",") {
      take(",");
      out.push(parse(0));
    }
    take(close);
    return out;
  };
  const primary = (): Value => {
    const t = take();
    if (t === "(") return args(")")[0];
    if (/^\d/.test(t)) return Number(t);
    if (t === "IF") {
      take("(");
      const [c, a, b] = args(")");
      return c === undefined ? undefined : c !== 0 ? a : b;
    }
    if (t === "FILL") {
      take("(");
      const [m, v] = args(")");
      return m ?? v;
    }
    if (t === "MAX") {
      take("(");
      take("[");
      const values = args("]");
      take(")");
      return values.some((v) => v === undefined) ? undefined : Math.max(...(values as number[]));
    }
    if (!(t in metrics)) throw new Error(`metric math: unknown id ${t}`);
    return metrics[t];
  };
  const value = parse(0);
  if (at !== tokens.length) throw new Error(`metric math: unexpected ${peek()} in ${expression}`);
  return value;
}
