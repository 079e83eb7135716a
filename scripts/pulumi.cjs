#!/usr/bin/env node
// `npm run pulumi -- ARGS`: runs the real Pulumi CLI with ARGS, offline-safe. Which CLI, and which settings it
// gets, is decided by tools/pulumi/index.cjs (see tools/pulumi/README.md): the user's `pulumi` from PATH when it
// is recent enough, else the one pinned in tools/pulumi/go.mod, built into .cache/pulumi on first use.
// It runs in the directory `npm run` was started from (INIT_CWD), so `cd examples/fleet && npm run pulumi -- up`
// works on that project; `-C DIR` (pulumi's own --cwd) works too.
const { spawn } = require("child_process");
const os = require("os");
const path = require("path");
const { ensurePulumiCli } = require("../tools/pulumi/index.cjs");

async function main() {
  const note = (line) => process.stderr.write(`${line}\n`);
  const cli = await ensurePulumiCli({ log: note });
  if (cli.local.backend) {
    const rel = (p) => path.relative(process.cwd(), p) || ".";
    const where = [`state in ${rel(cli.local.backend.slice("file://".length))}`];
    if (cli.local.home) where.push(`Pulumi home in ${rel(cli.local.home)}`);
    note(`pulumi ${cli.version} (${cli.source}); no Pulumi backend configured, so project-local: ${where.join(", ")}`);
  }
  const child = spawn(cli.bin, process.argv.slice(2), {
    cwd: process.env.INIT_CWD || process.cwd(),
    env: cli.env,
    stdio: "inherit",
  });
  // Ctrl-C reaches pulumi directly (same process group): passing it on as well would be pulumi's second ^C,
  // "terminate immediately". So SIGINT is only kept from ending this wrapper; SIGTERM and SIGHUP are passed on.
  process.on("SIGINT", () => {});
  for (const sig of ["SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 0)));
}

main().catch((e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
