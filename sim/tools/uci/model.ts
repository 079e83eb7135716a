/** A uci package as every reader sees it: the committed file with staged deltas replayed. */
export type UciValue = string | string[];

export interface UciSection {
  /** Real name: the given name, or the generated `cfgXXXXXX` of an anonymous section. */
  name: string;
  type: string;
  anonymous: boolean;
  /** Options in file order; a list option holds an array. */
  options: Map<string, UciValue>;
}

export interface UciPackage {
  name: string;
  sections: UciSection[];
}
