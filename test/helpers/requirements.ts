import * as fs from "fs";
import * as path from "path";

export interface Availability {
  ok: boolean;
  /** Why not, and what to do about it. */
  reason?: string;
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
 * failing test, because there these checks must run.
 */
export function describeIf(availability: Availability, title: string, body: () => void): void {
  if (availability.ok) {
    describe(title, body);
    return;
  }
  if (process.env.CI === "true") {
    test(`${title}: must run in CI`, () => {
      throw new Error(availability.reason);
    });
    return;
  }
  notice(`${title}: skipped, ${availability.reason}`);
  test.skip(`${title}: skipped, ${availability.reason}`, () => undefined);
}
