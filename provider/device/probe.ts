import { shellQuote } from "../transport";

/**
 * One exec, many reads: a POSIX sh script runs each named section on the router and prints one
 * JSON document `{"name": {"rc": N, "out": "..."}, ...}`. The shell side stays tiny and dumb (it
 * only captures and escapes); all interpretation happens in TypeScript parsers that tests can feed
 * with real outputs.
 */

export interface SectionResult {
  rc: number;
  out: string;
}

export type ProbeResult = Record<string, SectionResult>;

/**
 * Section bodies are shell text written by this library; any value inside one (a device name, a
 * file path) must already be a shellQuote'd word.
 */
export function probeScript(sections: Record<string, string>): string {
  const lines = [
    // JSON string from stdin: control characters dropped, then \ " and TAB escaped, lines joined by \n.
    `q() { tr -d '\\001-\\010\\013-\\037' | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g' -e 's/\t/\\\\t/g' | awk 'BEGIN{printf "\\""} NR>1{printf "\\\\n"} {printf "%s", $0} END{printf "\\""}'; }`,
    `s() { o=$( { eval "$2"; } 2>&1 ); r=$?; printf '%s"%s":{"rc":%d,"out":' "$c" "$1" "$r"; printf '%s' "$o" | q; printf '}'; c=,; }`,
    "c=",
    "printf '{'",
  ];
  for (const [name, body] of Object.entries(sections)) {
    if (!/^[a-z][a-zA-Z0-9]*$/.test(name)) throw new Error(`probe section name must be an identifier: ${name}`);
    lines.push(`s ${name} ${shellQuote(body)}`);
  }
  lines.push("printf '}\\n'");
  return `${lines.join("\n")}\n`;
}

export function parseProbe(stdout: string, expected: string[]): ProbeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error(`the router's probe output is not JSON (first 200 chars: ${JSON.stringify(stdout.slice(0, 200))})`);
  }
  const result = parsed as ProbeResult;
  const missing = expected.filter((name) => typeof result[name]?.rc !== "number" || typeof result[name]?.out !== "string");
  if (missing.length > 0) throw new Error(`the router's probe output lacks sections: ${missing.join(", ")}`);
  return result;
}
