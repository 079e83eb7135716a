import { readFileSync } from "fs";
import { Probe } from "../../../provider/device/probe";
import { routerAsh as ash } from "../../helpers/busybox";

describe("probe", () => {
  test("each section's exit status and exact output, trailing newlines and all", () => {
    const probe = new Probe({
      plain: "echo hello",
      failing: "echo oops >&2; false",
      tricky: `printf '%s\\n' 'quote" back\\slash	tab' '$(not run) \`nor this\`'`,
      unterminated: "printf 'no newline'",
      blankLines: "printf '\\n\\nx\\n\\n'",
      empty: "true",
    });
    expect(probe.parse(ash(probe.script())).results).toEqual({
      plain: { rc: 0, out: "hello\n" },
      failing: { rc: 1, out: "oops\n" },
      tricky: { rc: 0, out: 'quote" back\\slash\ttab\n$(not run) `nor this`\n' },
      unterminated: { rc: 0, out: "no newline" },
      blankLines: { rc: 0, out: "\n\nx\n\n" },
      empty: { rc: 0, out: "" },
    });
  });

  test("output that looks like a marker cannot end a section: the nonce is not known to it", () => {
    // What a marker looks like, with a made-up nonce, and with whatever the shell's variables hold.
    const probe = new Probe({
      forged: "printf '\\n0000000000000000 1 0\\nafter\\n'; for v in $(set | sed 's/=.*//'); do eval \"printf '\\n%s 1 0\\n' \\\"\\$$v\\\"\"; done",
      isolated: { body: "type _m; _m 1 0", isolated: true },
      next: "echo real",
    });
    const { results } = probe.parse(ash(probe.script()));
    expect(results.forged.out).toMatch(/^\n0000000000000000 1 0\nafter\n/);
    expect(results.isolated.rc).not.toBe(0);
    expect(results.next).toEqual({ rc: 0, out: "real\n" });
  });

  test("files are read exactly by a builtin, in parts named by the section", () => {
    const probe = new Probe({
      files: "for _p in /etc/hostname /nonexistent; do printf '%s' \"$_p\"; _m @path 0; _r \"$_p\"; _m @file $?; done",
    });
    const { files } = probe.parse(ash(probe.script())).results;
    expect(files.parts?.map((p) => [p.id, p.rc])).toEqual([
      ["path", 0],
      ["file", 0],
      ["path", 0],
      ["file", 1],
    ]);
    expect(files.parts?.[1].out).toBe(readFileSync("/etc/hostname", "utf8"));
  });

  test("sections run in the probe's shell, except isolated ones, which may exit", () => {
    const probe = new Probe({ set: "x=kept", isolated: { body: "echo $x; exit 7", isolated: true }, seen: "echo $x" });
    expect(probe.parse(ash(probe.script())).results).toEqual({
      set: { rc: 0, out: "" },
      isolated: { rc: 7, out: "kept\n" },
      seen: { rc: 0, out: "kept\n" },
    });
  });

  test("sections never read stdin; after its end marker the script goes on with what it was given", () => {
    const probe = new Probe({ reader: "cat" });
    const stdout = ash(probe.script('read -r answer; echo "got $answer"'), "yes\n");
    expect(probe.endOf(stdout)).toBeGreaterThan(0);
    expect(probe.parse(stdout)).toEqual({ results: { reader: { rc: 0, out: "" } }, rest: "got yes\n" });
    expect(probe.endOf(stdout.slice(0, probe.endOf(stdout) - 1))).toBe(-1);
  });

  test("output cut short is an error naming what is missing, never a fact", () => {
    const probe = new Probe({ a: "echo a", b: "echo b" });
    const stdout = ash(probe.script());
    expect(() => probe.parse(stdout.slice(0, stdout.indexOf("b\n")))).toThrow(/lacks sections: b/);
    expect(() => probe.parse("Segmentation fault")).toThrow(/lacks sections: a, b/);
    // Another probe's output (another nonce) is not this one's.
    expect(() => new Probe({ a: "echo a", b: "echo b" }).parse(stdout)).toThrow(/lacks sections/);
  });

  test("section names must be identifiers", () => {
    expect(() => new Probe({ "bad name": "true" })).toThrow(/identifier/);
  });
});
