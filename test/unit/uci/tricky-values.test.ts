import { TestRouter } from "./harness";

const VALUES = [
  "it's",
  'say "hi"',
  "$(reboot)",
  "`id`",
  "semi;colon",
  "tab\there",
  "back\\slash",
  "trailing\\",
  "multi\nline",
  "crlf\r\nend",
  "  padded  ",
  "#not a comment",
  "a=b",
  "mix: 'a' \"b\" $(c) `d`; e\tf\\g\nh ''",
];

/** What a provider sends: the value single-quoted, each ' written as '\''. */
const shellQuote = (v: string) => `'${v.replace(/'/g, "'\\''")}'`;

describe("tricky values survive every path", () => {
  let r: TestRouter;
  beforeEach(() => (r = new TestRouter({ test: "config t s\n" })));
  afterEach(() => r.dispose());

  const expectReadBack = async () => {
    for (const [i, v] of VALUES.entries()) {
      expect(await r.uci(["get", `test.s.o${i}`])).toEqual({ code: 0, stdout: `${v}\n`, stderr: "" });
      expect((await r.uci(["show", `test.s.o${i}`])).stdout).toBe(`test.s.o${i}=${shellQuote(v)}\n`);
    }
  };

  it("through batch with '...' and '\\'' quoting, staged and committed", async () => {
    const script = VALUES.map((v, i) => `set test.s.o${i}=${shellQuote(v)}\n`).join("");
    expect(await r.batch(script)).toEqual({ code: 0, stdout: "", stderr: "" });
    await expectReadBack();
    expect(await r.uci(["commit", "test"])).toEqual({ code: 0, stdout: "", stderr: "" });
    await expectReadBack();
  });

  it("through CLI arguments, staged and committed", async () => {
    for (const [i, v] of VALUES.entries()) {
      expect(await r.uci(["set", `test.s.o${i}=${v}`])).toEqual({ code: 0, stdout: "", stderr: "" });
    }
    await expectReadBack();
    await r.uci(["commit", "test"]);
    await expectReadBack();
  });

  it("as list items, through add_list and del_list", async () => {
    for (const v of VALUES) await r.uci(["add_list", `test.s.l=${v}`]);
    expect((await r.uci(["show", "test.s.l"])).stdout).toBe(`test.s.l=${VALUES.map(shellQuote).join(" ")}\n`);
    for (const v of VALUES.slice(1)) await r.uci(["del_list", `test.s.l=${v}`]);
    await r.uci(["commit", "test"]);
    expect((await r.uci(["get", "test.s.l"])).stdout).toBe("it's\n");
  });
});
