import type { RouterFs } from "../../fs";
import { importConfig } from "./config-parser";
import { DEFAULT_CONF_DIR, DEFAULT_SAVE_DIR, UciContext } from "./context";
import { UciErr, isUciError } from "./errors";
import { LineSource } from "./line-source";
import type { UciPackage } from "./model";
import { loadPackage } from "./store";
import { validatePackage } from "./validate";

export { uciTool } from "./cli";
export { UciError } from "./errors";
export { exportPackage } from "./export";
export type { UciPackage, UciSection, UciValue } from "./model";

/**
 * A package as every libuci reader sees it: the committed file with the delta dirs replayed (by
 * default /tmp/.uci), exactly what `uci show` prints. undefined when the package file does not
 * exist; a broken file throws UciError with uci's parse-error text.
 */
export function loadEffectivePackage(
  fs: RouterFs,
  pkg: string,
  opts: { confDir?: string; saveDirs?: string[] } = {},
): UciPackage | undefined {
  if (!validatePackage(pkg)) return undefined;
  const uci = new UciContext(fs);
  uci.confDir = opts.confDir ?? DEFAULT_CONF_DIR;
  uci.deltaPaths = [...(opts.saveDirs ?? [DEFAULT_SAVE_DIR])];
  try {
    return loadPackage(uci, pkg).pkg;
  } catch (e) {
    if (isUciError(e) && e.code === UciErr.NOTFOUND) return undefined;
    throw e;
  }
}

/** Parses config-file text (strict mode) into a package; throws UciError("Parse error (...) at line N, byte M"). */
export function parseConfig(text: string, pkgName: string): UciPackage {
  const [lp] = importConfig({ strict: true }, new LineSource(text), { name: pkgName, single: true });
  return lp.pkg;
}
