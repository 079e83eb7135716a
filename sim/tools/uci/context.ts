import type { RouterFs } from "../../fs";
import type { ParseContext } from "./tokenizer";

export const DEFAULT_CONF_DIR = "/etc/config";
export const DEFAULT_SAVE_DIR = "/tmp/.uci";

/** The state of one libuci context: directories, parser flags and the live parse context. */
export class UciContext {
  confDir = DEFAULT_CONF_DIR;
  saveDir = DEFAULT_SAVE_DIR;
  /** Delta directories replayed on load, in order; the save dir is always last. */
  deltaPaths: string[] = [DEFAULT_SAVE_DIR];
  strict = true;
  /** Name anonymous sections on export and commit (-n). */
  exportNames = false;
  warn: ((text: string) => void) | undefined;
  pctx: ParseContext | undefined;

  constructor(
    readonly fs: RouterFs,
    /** Whether writes to the overlay (where /etc/config lives) currently fail for lack of space. */
    readonly overlayFull: () => boolean = () => false,
    /** uci fsyncs the temp file it writes a config into (then renames it without syncing the directory). */
    readonly fsynced: (tempPath: string, data: string) => void = () => undefined,
  ) {}

  /** uci_add_delta_path: a read-only delta dir, replayed before the save dir; duplicates are refused. */
  addDeltaPath(dir: string): void {
    if (this.deltaPaths.includes(dir)) return;
    this.deltaPaths.splice(this.deltaPaths.length - 1, 0, dir);
  }

  /** uci_set_savedir: the dir moves to (or joins) the end of the delta paths and receives new deltas. */
  setSaveDir(dir: string): void {
    this.deltaPaths = this.deltaPaths.filter((d) => d !== dir);
    this.deltaPaths.push(dir);
    this.saveDir = dir;
  }
}
