import { parseProbe, probeScript } from "../../../provider/device/probe";
import { routerAsh as ash } from "../../helpers/busybox";

describe("probe script", () => {
  test("captures each section's exit status and exact output as one JSON document", () => {
    const sections = {
      plain: "echo hello",
      failing: "echo oops >&2; exit 3",
      tricky: `printf '%s\\n' 'quote" back\\slash	tab' '$(not run) \`nor this\`'`,
      empty: "true",
    };
    const result = parseProbe(ash(probeScript(sections)), Object.keys(sections));
    expect(result).toEqual({
      plain: { rc: 0, out: "hello" },
      failing: { rc: 3, out: "oops" },
      tricky: { rc: 0, out: 'quote" back\\slash\ttab\n$(not run) `nor this`' },
      empty: { rc: 0, out: "" },
    });
  });

  test("a missing section or broken output is an error, not an empty fact", () => {
    expect(() => parseProbe('{"a":{"rc":0,"out":""}}', ["a", "b"])).toThrow(/lacks sections: b/);
    expect(() => parseProbe("Segmentation fault", ["a"])).toThrow(/not JSON/);
  });

  test("section names must be identifiers", () => {
    expect(() => probeScript({ "bad name": "true" })).toThrow(/identifier/);
  });
});
