import type { Tool } from "../types";

/** busybox uname, answering with the router's kernel rather than the host's. */
export const unameTool: Tool = async (ctx) => {
  const { profile } = ctx.router;
  const fields: Record<string, string> = {
    s: "Linux",
    n: profile.board.hostname,
    r: profile.kernel,
    v: "#0 SMP Sun Jan 1 00:00:00 2023",
    m: machineOf(profile.release.arch),
    o: "GNU/Linux",
  };
  const flags = ctx.argv.slice(1).join("").replace(/-/g, "");
  const wanted = flags.includes("a") ? ["s", "n", "r", "v", "m", "o"] : [...flags].filter((f) => f in fields);
  ctx.stdout(`${(wanted.length ? wanted : ["s"]).map((f) => fields[f]).join(" ")}\n`);
  return 0;
};

function machineOf(arch: string): string {
  if (arch.startsWith("mips")) return "mips";
  if (arch.startsWith("aarch64")) return "aarch64";
  if (arch.startsWith("arm")) return "armv7l";
  return "x86_64";
}
