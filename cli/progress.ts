import { MultiBar, Presets, type SingleBar } from "cli-progress";

export interface ProgressOptions {
  /** e.g. "audit [{bar}] {value}/{total} routers | {last}" (cli-progress tokens). */
  format: string;
  /** No bar at all: lines are written straight to the stream. */
  enabled: boolean;
  /** Draw even when the stream is not a terminal (a log keeps the final state too). */
  forced?: boolean;
}

/**
 * A progress bar with a `log` that prints each line above the bar, on a line of its own, instead of
 * writing over the bar's line. The bar never shows more done than its total: a step nobody counted
 * raises the total instead of reading "24/23".
 */
export class Progress {
  private multi?: MultiBar;
  private bar?: SingleBar;
  private total = 0;
  private done = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly options: ProgressOptions,
  ) {}

  start(total: number, payload: Record<string, unknown> = {}): void {
    this.total = total;
    this.done = 0;
    if (!this.options.enabled) return;
    const forced = this.options.forced === true;
    this.multi = new MultiBar(
      {
        stream: this.stream,
        format: this.options.format,
        hideCursor: true,
        noTTYOutput: forced,
        // At a terminal the bar only shows work in progress; in a log (forced) the last state is worth keeping.
        clearOnComplete: !forced,
      },
      Presets.shades_classic,
    );
    this.bar = this.multi.create(total, 0, payload);
  }

  increment(payload: Record<string, unknown> = {}): void {
    this.done++;
    if (this.done > this.total) {
      this.total = this.done;
      this.bar?.setTotal(this.total);
    }
    this.bar?.increment(1, payload);
  }

  /** Whether a bar is drawn (a terminal, or forced): lines logged now stand above it. */
  get drawing(): boolean {
    return this.multi !== undefined;
  }

  log(line: string): void {
    if (!this.multi) {
      this.stream.write(`${line}\n`);
      return;
    }
    this.multi.log(`${line}\n`);
    // Now, not at the next tick: a line printed later than what it reports on would mislead.
    this.multi.update();
  }

  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
    this.bar = undefined;
  }
}
