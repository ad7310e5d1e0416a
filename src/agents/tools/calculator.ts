// A calculator tool on a small recursive-descent parser: numbers, + - * / % ^ (right-associative),
// unary minus, parentheses, a few functions and constants. Nothing is evaluated as JavaScript; any
// other character, name or construct is a parse error the model can read and fix.
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import { defineTool, type Tool } from "./tool.js";

const MAX_LENGTH = 1000;
const MAX_DEPTH = 64;

const FUNCTIONS: Record<string, { arity: [number, number]; fn: (...a: number[]) => number }> = {
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  abs: { arity: [1, 1], fn: Math.abs },
  floor: { arity: [1, 1], fn: Math.floor },
  ceil: { arity: [1, 1], fn: Math.ceil },
  round: { arity: [1, 2], fn: (x, d = 0) => Math.round(x * 10 ** d) / 10 ** d },
  min: { arity: [1, 32], fn: Math.min },
  max: { arity: [1, 32], fn: Math.max },
  pow: { arity: [2, 2], fn: Math.pow },
  exp: { arity: [1, 1], fn: Math.exp },
  ln: { arity: [1, 1], fn: Math.log },
  log: { arity: [1, 2], fn: (x, base = 10) => Math.log(x) / Math.log(base) },
  log2: { arity: [1, 1], fn: Math.log2 },
  log10: { arity: [1, 1], fn: Math.log10 },
  sin: { arity: [1, 1], fn: Math.sin },
  cos: { arity: [1, 1], fn: Math.cos },
  tan: { arity: [1, 1], fn: Math.tan },
  asin: { arity: [1, 1], fn: Math.asin },
  acos: { arity: [1, 1], fn: Math.acos },
  atan: { arity: [1, 1], fn: Math.atan },
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E, tau: 2 * Math.PI };

type Token = { kind: "num"; value: number; at: number } | { kind: "id"; name: string; at: number } | { kind: "op"; op: string; at: number } | { kind: "end"; at: number };

function syntax(message: string, at: number): StrataError {
  return new StrataError("TOOL_ARGS_INVALID", `${message} at character ${at + 1}`, "use numbers, + - * / % ^, parentheses, and functions like sqrt(x), round(x, 2), min(a, b)");
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: "num", value: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ kind: "id", name: id[0].toLowerCase(), at: i });
      i += id[0].length;
      continue;
    }
    if ("+-*/%^(),".includes(c)) {
      // "**" is accepted as a power operator too.
      if (c === "*" && src[i + 1] === "*") {
        out.push({ kind: "op", op: "^", at: i });
        i += 2;
        continue;
      }
      out.push({ kind: "op", op: c, at: i });
      i++;
      continue;
    }
    throw syntax(`unexpected character "${c}"`, i);
  }
  out.push({ kind: "end", at: src.length });
  return out;
}

/** Evaluates an arithmetic expression; errors are StrataErrors (TOOL_ARGS_INVALID) naming the problem. */
export function evaluateExpression(src: string): number {
  if (src.length > MAX_LENGTH) throw new StrataError("TOOL_ARGS_INVALID", `the expression is ${src.length} characters; the limit is ${MAX_LENGTH}`, "split the calculation into steps");
  const tokens = tokenize(src);
  let pos = 0;
  let depth = 0;
  const peek = (): Token => tokens[pos]!;
  const isOp = (op: string): boolean => {
    const t = peek();
    return t.kind === "op" && t.op === op;
  };
  const expect = (op: string): void => {
    if (!isOp(op)) throw syntax(`expected "${op}"`, peek().at);
    pos++;
  };
  const nested = <T>(f: () => T): T => {
    if (++depth > MAX_DEPTH) throw syntax("the expression is nested too deeply", peek().at);
    try {
      return f();
    } finally {
      depth--;
    }
  };
  const expr = (): number =>
    nested(() => {
      let v = term();
      while (isOp("+") || isOp("-")) {
        const op = (tokens[pos++] as { op: string }).op;
        const r = term();
        v = op === "+" ? v + r : v - r;
      }
      return v;
    });
  const term = (): number => {
    let v = unary();
    while (isOp("*") || isOp("/") || isOp("%")) {
      const t = tokens[pos++] as { op: string; at: number };
      const r = unary();
      if ((t.op === "/" || t.op === "%") && r === 0) throw new StrataError("TOOL_ARGS_INVALID", `division by zero at character ${t.at + 1}`, "check the divisor");
      v = t.op === "*" ? v * r : t.op === "/" ? v / r : v % r;
    }
    return v;
  };
  const unary = (): number =>
    nested(() => {
      if (isOp("-")) {
        pos++;
        return -unary();
      }
      if (isOp("+")) {
        pos++;
        return unary();
      }
      return power();
    });
  const power = (): number => {
    const base = primary();
    if (isOp("^")) {
      pos++;
      return Math.pow(base, unary());
    }
    return base;
  };
  const primary = (): number => {
    const t = peek();
    if (t.kind === "num") {
      pos++;
      return t.value;
    }
    if (t.kind === "op" && t.op === "(") {
      pos++;
      const v = expr();
      expect(")");
      return v;
    }
    if (t.kind === "id") {
      pos++;
      if (isOp("(")) {
        // Own properties only: "constructor" or "__proto__" must not reach Object.prototype.
        const f = Object.hasOwn(FUNCTIONS, t.name) ? FUNCTIONS[t.name] : undefined;
        if (!f) throw syntax(`unknown function "${t.name}"`, t.at);
        pos++;
        const args: number[] = [];
        if (!isOp(")")) {
          args.push(expr());
          while (isOp(",")) {
            pos++;
            args.push(expr());
          }
        }
        expect(")");
        if (args.length < f.arity[0] || args.length > f.arity[1]) throw syntax(`${t.name} takes ${f.arity[0] === f.arity[1] ? f.arity[0] : `${f.arity[0]}–${f.arity[1]}`} argument(s), got ${args.length}`, t.at);
        return f.fn(...args);
      }
      const c = Object.hasOwn(CONSTANTS, t.name) ? CONSTANTS[t.name] : undefined;
      if (c === undefined) throw syntax(`unknown name "${t.name}"`, t.at);
      return c;
    }
    throw syntax(t.kind === "end" ? "the expression ends too early" : `unexpected "${t.kind === "op" ? t.op : ""}"`, t.at);
  };
  const value = expr();
  if (peek().kind !== "end") throw syntax("unexpected text after the expression", peek().at);
  if (!Number.isFinite(value)) throw new StrataError("TOOL_ARGS_INVALID", `the result is not a finite number (${value})`, "check for overflow or a function outside its domain");
  return value;
}

export function calculatorTool(): Tool {
  return defineTool({
    name: "calculator",
    description: "Evaluates an arithmetic expression exactly as written: numbers, + - * / % ^, parentheses, sqrt, abs, round(x, digits), min, max, pow, exp, ln, log(x, base), sin, cos, tan; constants pi and e.",
    input: z.object({ expression: z.string().min(1).describe('e.g. "0.17 * 2340" or "round(sqrt(2), 3)"') }),
    risk: "read",
    untrustedOutput: false,
    timeoutMs: 1_000,
    run: ({ expression }) => ({ expression, result: evaluateExpression(expression) }),
  });
}
