import { exportPackage, parseConfig } from "../../../sim/tools/uci";
import { TestRouter } from "./harness";

const errorOf = (text: string): string => {
  try {
    parseConfig(text, "test");
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("no parse error");
};

/** The package re-exported, which shows names, types, option order and list/string kinds at once. */
const normalised = (text: string): string => exportPackage(parseConfig(text, "test"), { named: true });

describe("config-file parser", () => {
  it("reads the keywords, their one-letter forms, comments and every quoting style", () => {
    const text = [
      "# leading comment",
      "package test",
      "config zone 'lan'   # comment after config",
      "\toption name \"lan\"",
      "  o input ACCEPT",
      "\tlist network lan # comment after a value",
      "\tl network 'guest net'",
      'c rule',
      "\toption note it\\'s\\ fine",
      '\toption dq "a \\"b\\" \\$c"',
      "\toption sq 'keeps \\ backslash'",
      "\toption glued 'a'\"b\"c",
      "",
    ].join("\n");
    expect(normalised(text)).toBe(
      "\nconfig zone 'lan'\n" +
        "\toption name 'lan'\n" +
        "\toption input 'ACCEPT'\n" +
        "\tlist network 'lan'\n" +
        "\tlist network 'guest net'\n" +
        "\nconfig rule 'cfg0292bd'\n" +
        "\toption note 'it'\\''s fine'\n" +
        "\toption dq 'a \"b\" $c'\n" +
        "\toption sq 'keeps \\ backslash'\n" +
        "\toption glued 'abc'\n\n",
    );
  });

  it("continues a line after a trailing backslash and a quoted value over newlines", () => {
    const p = parseConfig("config a b\n\toption x foo\\\nbar\n\toption y 'one\ntwo'\n\toption z \"3\\\n4\"\n", "test");
    expect([...p.sections[0].options]).toEqual([
      ["x", "foobar"],
      ["y", "one\ntwo"],
      ["z", "34"],
    ]);
  });

  it("overwrites a repeated option in place, converts with list, replaces a list with option", () => {
    expect(
      normalised("config a b\n\toption x 1\n\toption y 2\n\toption x 3\n\toption l 1\n\tlist l 2\n\tlist m 1\n\toption m 2\n"),
    ).toBe("\nconfig a 'b'\n\toption x '3'\n\toption y '2'\n\tlist l '1'\n\tlist l '2'\n\toption m '2'\n\n");
  });

  it("ignores an option with an empty value, even over an existing one; an empty list item is kept", () => {
    expect(normalised("config a b\n\toption x 1\n\toption x ''\n\toption y\n\tlist z\n")).toBe(
      "\nconfig a 'b'\n\toption x '1'\n\tlist z ''\n\n",
    );
  });

  it("merges two blocks of the same named section", () => {
    expect(normalised("config a b\n\toption x 1\nconfig c\nconfig a b\n\toption y 2\n")).toBe(
      "\nconfig a 'b'\n\toption x '1'\n\toption y '2'\n\nconfig c 'cfg02b608'\n\n",
    );
  });

  it("lets a `;` separate commands only after a quoted word", () => {
    expect(normalised("config a 'b'; option x '1'; option y 2; option z 3\n")).toBe(
      "\nconfig a 'b'\n\toption x '1'\n\toption y '2'\n\n",
    );
  });

  it.each([
    ["config foo\n\tbogus line\n", "invalid command", 2, 1],
    ["config\n", "invalid command", 1, 0],
    ["option a b\n", "option/list command found before the first section", 1, 0],
    ["config foo 'bar\n", "EOF with unterminated '", 1, 16],
    ['config foo "bar\n', 'EOF with unterminated "', 1, 16],
    ["config foo bar baz\n", "too many arguments", 1, 19],
    ["config 'a b'\n", "invalid character in type field", 1, 13],
    ["config foo bad-name\n", "invalid character in name field", 1, 20],
    ["config foo bar\n\toption bad-name 1\n", "invalid character in name field", 2, 17],
    ["config zone x\nconfig rule x\n", "section of different type overwrites prior section with same name", 2, 14],
    ["config \n", "insufficient arguments", 1, 8],
    ["config a\nconfig", "config without name", 1, 0],
    ["config a\nbogus", "invalid command", 1, 0],
    ["package bad.name\n", "invalid character in name field", 1, 17],
  ])("rejects %j: %s at line %d, byte %d", (text, reason, line, byte) => {
    expect(errorOf(text)).toBe(`Parse error (${reason}) at line ${line}, byte ${byte}`);
  });

  describe("through the CLI", () => {
    let r: TestRouter;
    beforeEach(() => (r = new TestRouter({ test: "config a b\n\tbogus\n\toption x 1\nconfig c d garbage\n" })));
    afterEach(() => r.dispose());

    it("strict mode (default, -s) fails the command with the position", async () => {
      const expected = { code: 1, stdout: "", stderr: "uci: Parse error (invalid command) at line 2, byte 1\n" };
      expect(await r.uci(["show", "test"])).toEqual(expected);
      expect(await r.uci(["-s", "get", "test.b.x"])).toEqual(expected);
    });

    it("-S prints each error without the prefix, skips the bad line and goes on", async () => {
      expect(await r.uci(["-S", "show", "test"])).toEqual({
        code: 0,
        stdout: "test.b=a\ntest.b.x='1'\ntest.d=c\n",
        stderr: "Parse error (invalid command) at line 2, byte 1\n",
      });
    });

    it("-q hides the error but keeps the exit code", async () => {
      expect(await r.uci(["-q", "show", "test"])).toEqual({ code: 1, stdout: "", stderr: "" });
    });
  });
});
