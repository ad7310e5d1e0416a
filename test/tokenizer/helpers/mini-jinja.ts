// A tiny evaluator for the subset of Jinja that chat templates like ours use, written for tests so
// the GGUF chat template can be checked against our own renderer without a Jinja library:
// text, {{ expr }}, {% for x in expr %}…{% endfor %}, {% if expr %}…{% else %}…{% endif %};
// expressions are string literals (with \n \t \\ \' \" escapes), names, x.y and x['y'] lookups,
// `+` concatenation and `not`. Whitespace control ({%- -%}) is not supported.

type Value = unknown;
type Scope = Record<string, Value>;

type Node =
  | { kind: "text"; text: string }
  | { kind: "output"; expr: string }
  | { kind: "for"; name: string; iterable: string; body: Node[] }
  | { kind: "if"; cond: string; then: Node[]; else: Node[] };

function parseTemplate(src: string): Node[] {
  const tags = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
  const root: Node[] = [];
  const stack: { nodes: Node[]; node?: Node; inElse?: boolean }[] = [{ nodes: root }];
  let last = 0;
  const top = () => stack[stack.length - 1]!;
  for (let m = tags.exec(src); m !== null; m = tags.exec(src)) {
    if (m.index > last) top().nodes.push({ kind: "text", text: src.slice(last, m.index) });
    last = m.index + m[0].length;
    if (m[1] !== undefined) {
      top().nodes.push({ kind: "output", expr: m[1].trim() });
      continue;
    }
    const stmt = m[2]!.trim();
    let f: RegExpMatchArray | null;
    if ((f = /^for\s+(\w+)\s+in\s+(.+)$/.exec(stmt))) {
      const node: Node = { kind: "for", name: f[1]!, iterable: f[2]!, body: [] };
      top().nodes.push(node);
      stack.push({ nodes: node.body, node });
    } else if ((f = /^if\s+(.+)$/.exec(stmt))) {
      const node: Node = { kind: "if", cond: f[1]!, then: [], else: [] };
      top().nodes.push(node);
      stack.push({ nodes: node.then, node });
    } else if (stmt === "else") {
      const frame = top();
      if (frame.node?.kind !== "if") throw new Error("else outside if");
      frame.nodes = frame.node.else;
    } else if (stmt === "endfor" || stmt === "endif") {
      const frame = stack.pop();
      if (!frame?.node || (stmt === "endfor") !== (frame.node.kind === "for")) throw new Error(`unexpected ${stmt}`);
    } else throw new Error(`unsupported statement: ${stmt}`);
  }
  if (stack.length !== 1) throw new Error("unclosed block");
  if (last < src.length) root.push({ kind: "text", text: src.slice(last) });
  return root;
}

function tokenizeExpr(src: string): string[] {
  const re = /\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[A-Za-z_]\w*|\+|\.|\[|\])/gy;
  const out: string[] = [];
  let m: RegExpExecArray | null;
  while (re.lastIndex < src.length && (m = re.exec(src)) !== null) out.push(m[1]!);
  if (re.lastIndex < src.trimEnd().length) throw new Error(`cannot parse expression: ${src}`);
  return out;
}

function unquote(lit: string): string {
  const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };
  return lit.slice(1, -1).replace(/\\(.)/g, (_, c: string) => {
    const v = escapes[c];
    if (v === undefined) throw new Error(`unsupported escape \\${c}`);
    return v;
  });
}

function evaluate(expr: string, scope: Scope): Value {
  const toks = tokenizeExpr(expr);
  let i = 0;
  const primary = (): Value => {
    const t = toks[i++];
    if (t === undefined) throw new Error(`unexpected end of ${expr}`);
    if (t === "not") return !truthy(primary());
    let v: Value = t.startsWith("'") || t.startsWith('"') ? unquote(t) : scope[t];
    for (;;) {
      if (toks[i] === ".") {
        v = (v as Record<string, Value>)[toks[i + 1]!];
        i += 2;
      } else if (toks[i] === "[") {
        i++;
        const key = primary();
        if (toks[i++] !== "]") throw new Error(`expected ] in ${expr}`);
        v = (v as Record<string, Value>)[key as string];
      } else return v;
    }
  };
  let v = primary();
  while (toks[i] === "+") {
    i++;
    const w = primary();
    if (typeof v !== "string" || typeof w !== "string") throw new Error("+ joins strings only here");
    v = v + w;
  }
  if (i !== toks.length) throw new Error(`trailing tokens in ${expr}`);
  return v;
}

function truthy(v: Value): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

function run(nodes: Node[], scope: Scope): string {
  let out = "";
  for (const n of nodes) {
    if (n.kind === "text") out += n.text;
    else if (n.kind === "output") {
      const v = evaluate(n.expr, scope);
      out += v === undefined || v === null ? "" : String(v);
    } else if (n.kind === "for") {
      const items = evaluate(n.iterable, scope);
      if (!Array.isArray(items)) throw new Error(`${n.iterable} is not a list`);
      for (const item of items) out += run(n.body, { ...scope, [n.name]: item });
    } else out += run(truthy(evaluate(n.cond, scope)) ? n.then : n.else, scope);
  }
  return out;
}

export function renderJinja(template: string, scope: Scope): string {
  return run(parseTemplate(template), scope);
}
