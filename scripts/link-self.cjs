#!/usr/bin/env node
// Makes `require("pulumi-openwrt-offload/...")` resolve inside this repository, as it does in a user's
// program that installed the package: the example programs and the root Pulumi.yaml run here, and the
// Pulumi dynamic-provider plugin loads the implementation by package name from the program's directory.
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const link = path.join(root, "node_modules", "pulumi-openwrt-offload");
try {
  if (fs.realpathSync(link) === root) process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {
  // not there yet
}
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.symlinkSync("..", link, "dir");
