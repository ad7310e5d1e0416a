// Which tools of an MCP server may be mounted: an explicit list of names or patterns. Nothing is
// allowed by default. A string with `*` (any run of characters) or `?` (one character) is a
// pattern; any other string is an exact name, and an exact name the server lacks is an error at
// connect time (a typo would otherwise silently mount nothing).

export type AllowEntry = string | RegExp;

export function isPattern(entry: AllowEntry): boolean {
  return entry instanceof RegExp || /[*?]/.test(entry);
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

/** A predicate over tool names from an allow-list. */
export function allowMatcher(allow: readonly AllowEntry[]): (name: string) => boolean {
  const tests = allow.map((e) => (e instanceof RegExp ? e : isPattern(e) ? globToRegExp(e) : null));
  return (name) =>
    allow.some((entry, i) => {
      const re = tests[i];
      if (!re) return entry === name;
      re.lastIndex = 0;
      return re.test(name);
    });
}

/** Exact names on the list that none of `names` equals. */
export function unmatchedNames(allow: readonly AllowEntry[], names: readonly string[]): string[] {
  const have = new Set(names);
  return allow.filter((e): e is string => !isPattern(e) && !have.has(e as string)) as string[];
}
