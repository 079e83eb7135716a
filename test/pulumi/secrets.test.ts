import * as fs from "fs";
import * as path from "path";
import * as openwrt from "pulumi-openwrt-offload";
import { pulumiCliAvailability } from "../../tools/pulumi/index.cjs";
import { describeIf } from "../helpers/requirements";
import { CliStack, configuredRouter, EXAMPLES, inlineStack, routerConfig, runPulumi, Sandbox, sandboxTest, type Result } from "./harness";

/**
 * Credentials given as secret config (a private key; a password) never appear in plain text where the real CLI
 * writes: `pulumi stack export` (only `--show-secrets` reveals them, which proves they are in the state, encrypted),
 * the engine's logs (`--logtostderr -v=9 --logflow --debug`, which flows the verbosity to the plugins; and the log
 * files the CLI keeps under PULUMI_HOME/logs, encrypted, read back with `pulumi logs decrypt`), and the output of a
 * failing `up`.
 */

/** Distinctive pieces of a secret: a 64-character base64 line of a key, or a password as it is. */
function needles(secret: string): string[] {
  const lines = secret.split("\n").filter((l) => l.length >= 40 && !l.startsWith("-----"));
  return lines.length > 0 ? lines : [secret];
}

function expectAbsent(what: string, text: string, secret: string): void {
  for (const needle of needles(secret)) {
    if (text.includes(needle)) throw new Error(`${what} contains the secret in plain text (…${needle.slice(0, 12)}…)`);
  }
}

function expectPresent(what: string, text: string, secret: string): void {
  expect({ what, found: needles(secret).every((n) => text.includes(n)) }).toEqual({ what, found: true });
}

/** Every log file the CLI wrote under PULUMI_HOME/logs, raw and as `pulumi logs decrypt` reads it. */
async function logFiles(stack: CliStack | { box: Sandbox; dir: string }): Promise<{ files: number; raw: string; decrypted: string }> {
  const dir = path.join(stack.box.env.PULUMI_HOME!, "logs");
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
  let raw = "";
  let decrypted = "";
  for (const f of files) {
    raw += fs.readFileSync(f, "latin1");
    const r = await runPulumi(stack.box.cli, stack.dir, ["logs", "decrypt", f], stack.box.env);
    if (r.code !== 0) throw new Error(`pulumi logs decrypt ${f} exited ${r.code}: ${r.output}`);
    decrypted += r.stdout;
  }
  return { files: files.length, raw, decrypted };
}

const VERBOSE = ["--logtostderr", "-v=9", "--logflow", "--debug"];

describeIf(pulumiCliAvailability(), "secrets through the real Pulumi CLI", () => {
  sandboxTest(
    "a private key (quickstart's sshKey): not in stack export, the engine's logs, the log files, nor a failing up's output",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const key = sim.privateKey;
      const stack = await CliStack.init(box, "quickstart", "sim", routerConfig(sim));
      const outputs: Result[] = [];
      const step = async (args: string[]) => {
        const r = await stack.run(args);
        outputs.push(r);
        return r;
      };

      const up = await step(["up", "--yes", "--skip-preview", ...VERBOSE]);
      expect(up.code).toBe(0);
      // The verbose run really logged the provider calls (else finding nothing proves nothing).
      expect(up.stderr).toMatch(/Provider\[.*\]\.Create\(/);
      expect(up.stderr).toMatch(/privateKey/);
      expect(up.stderr).toContain(sim.hostKeyFingerprint); // property values are logged; secrets must be masked
      // Without --logtostderr the CLI writes its log to PULUMI_HOME/logs.
      expect((await step(["refresh", "--yes", "--skip-preview", "-v=9", "--logflow"])).code).toBe(0);

      // A failing up: the guard restores the change and the error says so.
      await stack.setConfig({ plain: { hardware: "false" } });
      sim.setFaults({ failNextFirewallReload: true });
      const failing = await step(["up", "--yes", "--skip-preview", ...VERBOSE]);
      expect(failing.code).toBe(1);
      expect(failing.output).toMatch(/restored/);

      const exported = await stack.ok(["stack", "export"]);
      expect(exported).toMatch(/"ciphertext"/);
      expectAbsent("stack export", exported, key);
      expectPresent("stack export --show-secrets", await stack.ok(["stack", "export", "--show-secrets"]), key);
      for (const r of outputs) {
        expectAbsent("stdout", r.stdout, key);
        expectAbsent("stderr", r.stderr, key);
      }
      const logs = await logFiles(stack);
      expect(logs.files).toBeGreaterThan(0);
      expect(logs.decrypted).toMatch(/Provider\[.*\]\.Read\(/);
      expectAbsent("PULUMI_HOME/logs", logs.raw, key);
      expectAbsent("PULUMI_HOME/logs (decrypted)", logs.decrypted, key);
    },
  );

  sandboxTest(
    "a password (Automation API inline program): not in stack export, the engine's logs, nor the output of a failing up",
    { profiles: ["mt7621-23.05"] },
    async (box) => {
      const [sim] = box.routers;
      const program = async () => {
        const edge = configuredRouter("password");
        new openwrt.FirewallDefaults("edge-1-offload", { router: edge, flowOffloading: true });
        return { target: edge.target };
      };
      const stack = await inlineStack(box, {
        projectName: "secrets",
        stackName: "password",
        program,
        main: path.join(EXAMPLES, "quickstart"),
        config: { plain: { host: sim.host, port: String(sim.port), hostKey: sim.hostKeyFingerprint }, secret: { password: sim.password } },
      });
      let text = "";
      const collect = { onOutput: (o: string) => (text += o), onError: (e: string) => (text += e) };
      const verbose = { logToStdErr: true, logVerbosity: 9, logFlow: true, debug: true, ...collect };

      const up = await stack.up(verbose);
      expect(up.outputs.target.value).toBe("ramips/mt7621");
      expect(text).toMatch(/Provider\[.*\]\.Create\(/);
      expect(text).toContain(sim.hostKeyFingerprint);
      expectAbsent("up's output and engine log", text, sim.password);

      // A wrong password: the router refuses it, the update fails, and the error does not echo it.
      const wrong = "not-the-password-8f3k2";
      await stack.setConfig("password", { value: wrong, secret: true });
      text = "";
      const failed = await stack.up(verbose).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(failed?.message).toMatch(/edge-1/);
      expect(failed?.message).toMatch(/authentication|All configured authentication methods failed/i);
      expectAbsent("the failing up's error", failed!.message, wrong);
      expectAbsent("the failing up's output and engine log", text, wrong);
      expectAbsent("the failing up's output and engine log", text, sim.password);

      const workDir = stack.workspace.workDir;
      const exported = (await runPulumi(box.cli, workDir, ["stack", "export", "--stack", "password"], box.env)).stdout;
      expect(exported).toMatch(/"ciphertext"/);
      expectAbsent("stack export", exported, sim.password);
      const revealed = (await runPulumi(box.cli, workDir, ["stack", "export", "--stack", "password", "--show-secrets"], box.env)).stdout;
      expectPresent("stack export --show-secrets", revealed, sim.password);
    },
  );
});
