import { randomBytes } from "crypto";

/**
 * One exec, many reads. The router's shell runs each named section with its output going straight
 * to stdout, and after each one prints a marker line `NONCE INDEX STATUS`; TypeScript cuts the
 * output at the markers and parses each section. The nonce is random per probe and is in no
 * variable or file a section reads (only in the script's text), so no output (a uci value, a file
 * someone wrote) can fake a marker.
 *
 * Nothing is escaped on the router and no section runs in a subshell: a section is a command list
 * run by the probe's own shell, so it starts only the programs it names (and must not `exit`).
 * Sections may use two helpers:
 *  - `_r FILE` prints FILE exactly (busybox ash `read`, no process);
 *  - `_m @ID STATUS` ends a part: what the section printed since the previous marker becomes a
 *    part of the section (e.g. a file's name, then its content).
 */

export interface Part {
  id: string;
  rc: number;
  out: string;
}

export interface SectionResult {
  rc: number;
  /** Exactly what the section printed (stdout and stderr), after its last part. */
  out: string;
  /** What it printed before each `_m @ID` marker, in order. */
  parts?: Part[];
}

export type ProbeResult = Record<string, SectionResult>;

export interface SectionSpec {
  body: string;
  /** Runs in a subshell: a command from outside this library (a user's health check) may `exit`. */
  isolated?: boolean;
}

const NAME = /^[a-z][a-zA-Z0-9]*$/;

export class Probe {
  readonly names: string[];
  /** 64 random bits: what a section's output would have to guess to fake a marker. */
  private readonly nonce = randomBytes(8).toString("hex");

  /** Section bodies are shell text written by this library; any value inside one must already be a shellQuote'd word. */
  constructor(private readonly sections: Record<string, string | SectionSpec>) {
    this.names = Object.keys(sections);
    for (const name of this.names) if (!NAME.test(name)) throw new Error(`probe section name must be an identifier: ${name}`);
  }

  /**
   * The script. With `then`, it prints an `end` marker once every section has run and goes on
   * with `then` (e.g. waiting for the client's answer on stdin); sections never read stdin.
   */
  script(then?: string): string {
    const marker = (id: string, status: string) => `printf '\\n${this.nonce} %s %s\\n' ${id} ${status}`;
    const lines = [
      `_m() { ${marker('"$1"', '"$2"')}; }`,
      `_r() { while IFS= read -r _l; do printf '%s\\n' "$_l"; done <"$1" && printf '%s' "$_l"; }`,
    ];
    this.names.forEach((name, i) => {
      const section = this.sections[name];
      const { body, isolated } = typeof section === "string" ? { body: section, isolated: false } : section;
      // An isolated section (someone else's command) does not even get the helpers that print markers.
      lines.push(isolated ? `(\nunset -f _m _r\n${body}\n) </dev/null 2>&1; ${marker(String(i), "$?")}` : `{\n${body}\n} </dev/null 2>&1; ${marker(String(i), "$?")}`);
    });
    if (then !== undefined) lines.push(marker("end", "0"), then);
    return `${lines.join("\n")}\n`;
  }

  /** Where the `end` marker finishes in `stdout`, once it has arrived (-1 before). */
  endOf(stdout: string): number {
    const marker = `\n${this.nonce} end 0\n`;
    const at = stdout.indexOf(marker);
    return at < 0 ? -1 : at + marker.length;
  }

  /**
   * Every section's result, and what the script printed after its `end` marker. Throws when a
   * section's marker is missing (the output was cut short), never guesses.
   */
  parse(stdout: string): { results: ProbeResult; rest: string } {
    const results: ProbeResult = {};
    const marker = new RegExp(`\\n${this.nonce} (@?[A-Za-z0-9]+) (-?\\d+)\\n`, "g");
    let from = 0;
    let parts: Part[] = [];
    let rest = "";
    for (let m = marker.exec(stdout); m; m = marker.exec(stdout)) {
      const [, id, rc] = m;
      const out = stdout.slice(from, m.index);
      from = m.index + m[0].length;
      if (id.startsWith("@")) {
        parts.push({ id: id.slice(1), rc: Number(rc), out });
      } else if (id === "end") {
        rest = stdout.slice(from);
        break;
      } else {
        const name = this.names[Number(id)];
        if (name === undefined || name in results) throw new Error(`the router's probe output is garbled at section ${id}`);
        results[name] = { rc: Number(rc), out, ...(parts.length > 0 ? { parts } : {}) };
        parts = [];
      }
    }
    const missing = this.names.filter((name) => !(name in results));
    if (missing.length > 0) {
      throw new Error(`the router's probe output lacks sections: ${missing.join(", ")} (first 200 chars: ${JSON.stringify(stdout.slice(0, 200))})`);
    }
    return { results, rest };
  }
}
