export type GetoptItem =
  | { kind: "option"; option: string; arg?: string }
  /** musl has already described the problem; `message` is what it prints to stderr. */
  | { kind: "error"; message: string };

/**
 * POSIX getopt as musl implements it: no argument permutation (options stop at the first
 * non-option or `--`), grouped flags, and an option argument either attached or in the next word.
 * The generator's return value is optind, the index of the first operand.
 */
export function* getopt(argv: string[], optstring: string): Generator<GetoptItem, number> {
  let optind = 1;
  let optpos = 0;
  for (;;) {
    const word = argv[optind];
    if (word === undefined) return optind;
    if (optpos === 0) {
      if (word[0] !== "-" || word.length === 1) return optind;
      if (word === "--") return optind + 1;
      optpos = 1;
    }
    const c = word[optpos++];
    if (optpos >= word.length) {
      optind++;
      optpos = 0;
    }
    const at = optstring.indexOf(c);
    if (at < 0 || c === ":") {
      yield { kind: "error", message: `${argv[0]}: unrecognized option: ${c}\n` };
      continue;
    }
    if (optstring[at + 1] !== ":") {
      yield { kind: "option", option: c };
      continue;
    }
    const arg = optpos > 0 ? word.slice(optpos) : argv[optind];
    optind++;
    optpos = 0;
    if (arg === undefined) {
      yield { kind: "error", message: `${argv[0]}: option requires an argument: ${c}\n` };
      continue;
    }
    yield { kind: "option", option: c, arg };
  }
}
