// Prints, after jest's own summary, every suite that was skipped because this machine lacks what it
// needs (QEMU, Chromium, a Pulumi CLI), so a green run that tested less says so where it is read.
const fs = require("fs");
const path = require("path");

const NOTICES = path.join(__dirname, "../../.cache/jest-skip-notices.txt");

class SkipNotices {
  onRunStart() {
    fs.rmSync(NOTICES, { force: true });
  }

  onRunComplete() {
    let lines = [];
    try {
      lines = [...new Set(fs.readFileSync(NOTICES, "utf8").split("\n").filter(Boolean))];
    } catch {
      return;
    }
    if (lines.length === 0) return;
    process.stderr.write(`\nSkipped on this machine (CI runs them):\n${lines.map((l) => `  - ${l}`).join("\n")}\n`);
  }
}

module.exports = SkipNotices;
