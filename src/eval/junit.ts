// JUnit XML for CI systems: one test suite per run, one test case per item (failed when its score is
// below the threshold or it errored), plus one case per gate check. The XML is escaped by hand:
// only the five XML entities and characters XML 1.0 forbids need care.

export interface JUnitCase {
  name: string;
  classname: string;
  /** Seconds. */
  time?: number;
  failure?: { message: string; body?: string };
  error?: { message: string };
}

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function xmlEscape(s: string): string {
  return s.replace(FORBIDDEN, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

export function junitXml(suite: string, cases: readonly JUnitCase[], properties: Record<string, string | number> = {}): string {
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const time = cases.reduce((s, c) => s + (c.time ?? 0), 0);
  const props = Object.entries(properties)
    .map(([k, v]) => `    <property name="${xmlEscape(k)}" value="${xmlEscape(String(v))}"/>`)
    .join("\n");
  const body = cases
    .map((c) => {
      const open = `  <testcase name="${xmlEscape(c.name)}" classname="${xmlEscape(c.classname)}" time="${(c.time ?? 0).toFixed(3)}"`;
      if (c.failure) return `${open}>\n    <failure message="${xmlEscape(c.failure.message)}">${xmlEscape(c.failure.body ?? c.failure.message)}</failure>\n  </testcase>`;
      if (c.error) return `${open}>\n    <error message="${xmlEscape(c.error.message)}"/>\n  </testcase>`;
      return `${open}/>`;
    })
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${xmlEscape(suite)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">
 <testsuite name="${xmlEscape(suite)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">
${props ? `  <properties>\n${props}\n  </properties>\n` : ""}${body}
 </testsuite>
</testsuites>
`;
}

/** A QA run as JUnit: an item fails when its F1 is below `minF1` (default 0.5) or it errored. */
export function qaJunit(suite: string, items: ReadonlyArray<{ id: string; metrics: Record<string, number | null>; detail: Record<string, unknown> }>, summary: Record<string, number | null>, minF1 = 0.5): string {
  const cases = items.map((i): JUnitCase => {
    const q = typeof i.detail.question === "string" ? i.detail.question : i.id;
    const base = { name: `${i.id}: ${q.slice(0, 120)}`, classname: suite, time: (i.metrics.ms ?? 0) / 1000 };
    if (i.metrics.error === 1) return { ...base, error: { message: String(i.detail.error ?? "error") } };
    const f1 = i.metrics.f1 ?? 0;
    if (f1 < minF1) return { ...base, failure: { message: `F1 ${f1.toFixed(3)} < ${minF1}`, body: `answer: ${String(i.detail.answer ?? "")}\ngold: ${JSON.stringify(i.detail.golds ?? [])}` } };
    return base;
  });
  const props: Record<string, number> = {};
  for (const [k, v] of Object.entries(summary)) if (v !== null) props[k] = v;
  return junitXml(suite, cases, props);
}
