import { renderTable } from "../../cli/table";

/** Colour must never move a column: widths come from the text, escapes are added after padding. */
test("the same columns with and without colour", () => {
  const rows = [
    [{ text: "edge-1", style: "bold" as const }, { text: "hardware", style: "magenta" as const }, "none"],
    ["a-much-longer-name", { text: "off", style: "gray" as const }, { text: "sqm, full-flash", style: "yellow" as const }],
  ];
  const plain = renderTable(["ROUTER", "MODE", "CONFLICTS"], rows, false);
  expect(plain).toBe(["ROUTER              MODE      CONFLICTS", "edge-1              hardware  none", "a-much-longer-name  off       sqm, full-flash", ""].join("\n"));
  const colored = renderTable(["ROUTER", "MODE", "CONFLICTS"], rows, true);
  expect(colored).toContain("\u001b[35mhardware\u001b[39m  none");
  // eslint-disable-next-line no-control-regex
  expect(colored.replace(/\u001b\[\d+m/g, "")).toBe(plain);
});
