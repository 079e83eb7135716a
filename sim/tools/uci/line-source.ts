/**
 * A text stream read the way uci reads its input with fgets(): one line at a time, newline kept,
 * and end-of-file noticed only once a read runs into it (feof semantics).
 */
export class LineSource {
  private offset = 0;
  private atEof = false;

  constructor(private readonly text: string) {}

  get eof(): boolean {
    return this.atEof;
  }

  /** The next line including its `\n`, or the unterminated rest; undefined at end of input. */
  gets(): string | undefined {
    if (this.offset >= this.text.length) {
      this.atEof = true;
      return undefined;
    }
    const nl = this.text.indexOf("\n", this.offset);
    const end = nl < 0 ? this.text.length : nl + 1;
    const line = this.text.slice(this.offset, end);
    this.offset = end;
    if (nl < 0) this.atEof = true;
    return line;
  }
}
