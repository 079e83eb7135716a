import * as fs from "fs";
import * as path from "path";

export interface Availability {
  ok: boolean;
  /** Why not, and what to do about it. */
  reason?: string;
  /**
   * Not to be had on any machine this project runs on (CI included), so a skip with its reason is the honest
   * outcome there too, not a failure.
   */
  unobtainable?: boolean;
}

/** Where skipped suites leave their notice; the summary reporter prints them after the run (test/reporters). */
export const NOTICES_FILE = path.join(__dirname, "../../.cache/jest-skip-notices.txt");

function notice(line: string): void {
  fs.mkdirSync(path.dirname(NOTICES_FILE), { recursive: true });
  fs.appendFileSync(NOTICES_FILE, `${line}\n`);
}

/**
 * Declares `body` as a suite when what it needs is here. Otherwise the run says why: locally a
 * skipped test named after the reason, with the same line in the run's summary; in CI (CI=true) a
 * failing test, because there these checks must run, unless what is missing is unobtainable.
 */
export function describeIf(availability: Availability, title: string, body: () => void): void {
  if (availability.ok) {
    describe(title, body);
    return;
  }
  if (process.env.CI === "true" && !availability.unobtainable) {
    test(`${title}: must run in CI`, () => {
      throw new Error(availability.reason);
    });
    return;
  }
  notice(`${title}: skipped, ${availability.reason}`);
  test.skip(`${title}: skipped, ${availability.reason}`, () => undefined);
}
