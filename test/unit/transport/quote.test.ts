import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { ConnectionPool, parseConnectionOptions, shellCommand, shellQuote, UnquotableValueError } from "../../../provider/transport";
import { routerAsh as ash } from "../../helpers/busybox";
import { startTestSshServer, type TestSshServer } from "../../helpers/ssh-test-server";

const dir = mkdtempSync(join(tmpdir(), "quote-test-"));
const canary = join(dir, "pwned");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Any well-formed string without NUL (full Unicode, controls, astral code points). */
const anyString = fc.string({ unit: "binary", maxLength: 80 }).filter((s) => !s.includes("\0"));

/** Strings dense in shell syntax, with pieces that would create the canary file if the shell ever ran them. */
const hostileString = fc.string({
  unit: fc.constantFrom(
    "'",
    '"',
    "\\",
    "`",
    "$",
    "(",
    ")",
    "{",
    "}",
    ";",
    "&",
    "|",
    "<",
    ">",
    "*",
    "?",
    "~",
    "#",
    "!",
    "=",
    "%",
    "-",
    " ",
    "\t",
    "\n",
    "\r",
    "\x01",
    "\x1b",
    "\x7f",
    "\u00ff",
    "\u00e9",
    "\u2028",
    "\ud83d\ude00",
    "a",
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `;touch ${canary};`,
    `'; touch ${canary}; '`,
    `"; touch ${canary}; "`,
    `\ntouch ${canary}\n`,
    `&& touch ${canary}`,
    `|touch ${canary}`,
    "${HOME}",
    "$((1+1))",
    "'\\''",
  ),
  maxLength: 30,
});

describe("shellQuote", () => {
  it("single-quotes every value and writes an embedded quote as '\\''", () => {
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("wan")).toBe("'wan'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("''")).toBe("''\\'''\\'''");
    expect(shellCommand(["uci", "get", "firewall.@defaults[0].flow_offloading"])).toBe(
      "'uci' 'get' 'firewall.@defaults[0].flow_offloading'",
    );
  });

  it("rejects NUL and lone surrogates without echoing the value", () => {
    const secretish = "hunter2\0tail";
    expect(() => shellQuote(secretish)).toThrow(UnquotableValueError);
    expect(() => shellQuote(secretish)).toThrow(/NUL character at index 7/);
    try {
      shellQuote(secretish);
    } catch (error) {
      expect(String(error)).not.toContain("hunter2");
    }
    expect(() => shellQuote("a\ud800b")).toThrow(/lone UTF-16 surrogate at index 1/);
    expect(() => shellQuote("\udc00")).toThrow(UnquotableValueError);
    expect(shellQuote("\ud83d\ude00")).toBe("'\ud83d\ude00'");
    expect(() => shellCommand([])).toThrow(UnquotableValueError);
    expect(() => shellCommand(["printf", "%s", "\0"])).toThrow(UnquotableValueError);
  });

  it("the canary would fire if the shell ever evaluated it", () => {
    ash(`printf %s $(touch ${canary})`);
    expect(existsSync(canary)).toBe(true);
    rmSync(canary);
  });

  it("round-trips any string through busybox ash", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(ash(`printf %s ${shellQuote(s)}`)).toBe(s);
      }),
      { numRuns: 150 },
    );
  });

  it("round-trips shell syntax without executing anything", () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        expect(ash(`printf %s ${shellQuote(s)}`)).toBe(s);
        expect(existsSync(canary)).toBe(false);
      }),
      { numRuns: 250 },
    );
  });

  it("keeps word boundaries: every value arrives as exactly one argument", () => {
    const word = fc.oneof(anyString, hostileString).filter((s) => !s.includes("\x02"));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 6 }), (words) => {
        // printf repeats its format per argument; \x02 is a literal byte in the format, never in a word.
        const out = ash(shellCommand(["printf", "%s\x02", ...words]));
        expect(out.split("\x02").slice(0, -1)).toEqual(words.length === 0 ? [""] : words);
        expect(existsSync(canary)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe("shellQuote over SSH (sh -c on the server)", () => {
  let server: TestSshServer;
  let pool: ConnectionPool;

  beforeAll(async () => {
    server = await startTestSshServer();
    pool = new ConnectionPool();
  });
  afterAll(async () => {
    await pool.closeAll();
    await server.stop();
  });

  it("round-trips arbitrary and hostile strings and never executes them", async () => {
    const options = parseConnectionOptions({
      host: server.host,
      port: server.port,
      password: server.password,
      hostKey: server.hostKeyFingerprint,
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyString, hostileString), async (s) => {
        const result = await pool.exec(options, shellCommand(["printf", "%s", s]), { purpose: "quoting round trip" });
        expect(result.stdout).toBe(s);
        expect(existsSync(canary)).toBe(false);
      }),
      { numRuns: 80 },
    );
    expect(pool.counters.snapshot().handshakes).toBe(1);
  });
});
