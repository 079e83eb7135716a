import type { UciPackage, UciSection } from "./model";

export type DeltaCommand = "add" | "remove" | "change" | "rename" | "reorder" | "list-add" | "list-del";

/** One staged change, as a delta-file line records it (section names are always real names). */
export interface Delta {
  cmd: DeltaCommand;
  section: string;
  option?: string;
  value?: string;
}

/** A package in memory, with the bookkeeping libuci keeps beside the model. */
export interface LoadedPackage {
  pkg: UciPackage;
  /** Sections allocated so far (n_section): numbers the next anonymous name; never decremented. */
  counter: number;
  /** Loaded from the config directory, so changes are staged as deltas rather than written. */
  hasDelta: boolean;
  /** Changes made by this command, not yet appended to the save dir. */
  delta: Delta[];
  /** Delta lines replayed on load, in replay order: what `uci changes` lists. */
  savedDelta: Delta[];
}

export function emptyPackage(name: string): LoadedPackage {
  return { pkg: { name, sections: [] }, counter: 0, hasDelta: false, delta: [], savedDelta: [] };
}

export function findSection(lp: LoadedPackage, name: string): UciSection | undefined {
  return lp.pkg.sections.find((s) => s.name === name);
}
