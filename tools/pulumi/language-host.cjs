#!/usr/bin/env node
// A stand-in for Pulumi's Go `pulumi-language-nodejs` plugin, written on what @pulumi/pulumi ships.
//
// Why: the Go module proxy this project can reach does not serve the Go language host
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 answers 403 for every version and commit),
// and the real CLI needs a `pulumi-language-nodejs` plugin to run a Pulumi.yaml project. See tools/pulumi/README.md.
//
// What it does, mirroring the Go host (sdk/nodejs/cmd/pulumi-language-nodejs/main.go):
// - started by the engine as `pulumi-language-nodejs [-tracing URL] [-runtime nodejs] ENGINE_ADDRESS` (our sh
//   launcher adds `--plugin-version vX.Y.Z`), it serves the LanguageRuntime gRPC service on 127.0.0.1 and prints
//   the port as its first stdout line;
// - Run spawns `node [nodeargs] <program dir's @pulumi/pulumi/cmd/run> --monitor … --engine … --organization …
//   --project … --root-directory … --stack … --pwd <program dir> [--dry-run] --parallel N <entry point> ARGS`
//   with PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS, PULUMI_NODEJS_TYPESCRIPT and PULUMI_NODEJS_TSCONFIG_PATH set
//   from the request and the project's runtime options, exactly the command line and environment the Go host
//   builds; @pulumi/pulumi's own `cmd/run` then loads the program (TypeScript through ts-node, as usual);
// - exit code 32 (the SDK's "already reported to the user") becomes `bail`, any other non-zero exit code
//   "Program exited with non-zero exit code: N";
// - GetRequiredPackages/GetRequiredPlugins walk the program directory for node_modules packages whose package.json
//   has `pulumi.resource: true`, as the Go host does;
// - Handshake, GetPluginInfo, About, GetProgramDependencies, RuntimeOptionsPrompts and Cancel are answered; code
//   generation, packing, linking, InstallDependencies and RunPlugin are left UNIMPLEMENTED.
// Differences from the Go host: the program talks to the engine's resource monitor directly (the Go host puts a
// forwarding proxy in between) and there is no `--sync` pipe directory (only the long-deprecated synchronous
// invokes use it).
"use strict";

const childProcess = require("child_process");
const fs = require("fs");
const { createRequire } = require("module");
const path = require("path");

const USER_ACTIONABLE_EXIT = 32; // @pulumi/pulumi/cmd/run: "exited after logging a user-actionable message"

function parseArgs(argv) {
    const opts = { tracing: "", runtime: "nodejs", version: false, pluginVersion: "", positional: [] };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("-") || opts.positional.length > 0) {
            opts.positional.push(arg);
            continue;
        }
        const m = /^--?([^=]+)(?:=(.*))?$/.exec(arg);
        const name = m ? m[1] : arg;
        const value = () => (m && m[2] !== undefined ? m[2] : argv[++i] ?? "");
        if (name === "version") opts.version = true;
        else if (name === "tracing") opts.tracing = value();
        else if (name === "runtime") opts.runtime = value();
        else if (name === "plugin-version") opts.pluginVersion = value();
        else if (name === "root") value(); // accepted by older hosts; the program info carries it now
    }
    return opts;
}

/** Resolves @pulumi/pulumi the way the Go host does (from the program directory), falling back to this file's. */
function sdkRequire(fromDirs) {
    for (const dir of fromDirs) {
        if (!dir) continue;
        try {
            const pkg = createRequire(path.join(dir, "noop.js")).resolve("@pulumi/pulumi/package.json");
            return createRequire(pkg);
        } catch {
            // try the next one
        }
    }
    return undefined;
}

/** The Go host's getPackagesFromDir: every package.json below a node_modules folder inside `dir`, deeply. */
function requiredPackages(dir) {
    const found = [];
    const visited = new Set();
    const walk = (d, inNodeModules) => {
        let real;
        try {
            real = fs.realpathSync(d);
        } catch {
            return;
        }
        if (visited.has(real)) return;
        visited.add(real);
        let entries;
        try {
            entries = fs.readdirSync(real, { withFileTypes: true });
        } catch {
            return;
        }
        for (const e of entries) {
            const p = path.join(real, e.name);
            let isDir = e.isDirectory();
            if (e.isSymbolicLink()) {
                try {
                    isDir = fs.statSync(p).isDirectory();
                } catch {
                    continue;
                }
            }
            if (isDir) {
                // Policy packs carry their own plugins, which are not the program's (the Go host skips them too).
                if (fs.existsSync(path.join(p, "PulumiPolicy.yaml"))) continue;
                walk(p, inNodeModules || path.basename(real) === "node_modules");
            } else if (inNodeModules && e.name === "package.json") {
                try {
                    const info = JSON.parse(fs.readFileSync(p, "utf8"));
                    const pulumi = info.pulumi || {};
                    if (!pulumi.resource) continue;
                    let name = pulumi.name;
                    if (!name && typeof info.name === "string" && info.name.startsWith("@pulumi/")) {
                        name = info.name.slice("@pulumi/".length);
                    }
                    let version = pulumi.version || info.version;
                    if (!name || !version) continue;
                    if (!version.startsWith("v")) version = `v${version}`;
                    found.push({ name, version, server: pulumi.server || "" });
                } catch {
                    // unreadable package.json: the Go host records the error and goes on
                }
            }
        }
    };
    walk(dir, false);
    return found;
}

function main() {
    const opts = parseArgs(process.argv.slice(2));
    if (opts.version) {
        process.stdout.write(`${opts.pluginVersion}\n`);
        return;
    }
    if (opts.runtime !== "nodejs") {
        process.stderr.write(`unsupported runtime: ${opts.runtime} (this stand-in runs nodejs only)\n`);
        process.exit(1);
    }
    let engineAddress = opts.positional[0] || "";

    const req = sdkRequire([process.cwd(), __dirname]);
    if (!req) {
        process.stderr.write("It looks like the Pulumi SDK has not been installed. Have you run npm install?\n");
        process.exit(1);
    }
    const grpc = req("@grpc/grpc-js");
    const services = req("./proto/language_grpc_pb.js");
    const lang = req("./proto/language_pb.js");
    const plugin = req("./proto/plugin_pb.js");
    const emptyPb = req("google-protobuf/google/protobuf/empty_pb.js");

    const children = new Set();

    const run = (call, callback) => {
        const r = call.request;
        const info = r.getInfo();
        const programDir = (info && info.getProgramDirectory()) || r.getPwd() || process.cwd();
        const entryPoint = (info && info.getEntryPoint()) || r.getProgram() || ".";
        const rootDir = (info && info.getRootDirectory()) || "";
        const options = (info && info.getOptions() && info.getOptions().toJavaScript()) || {};
        const reply = (error, bail) => {
            const resp = new lang.RunResponse();
            resp.setError(error || "");
            resp.setBail(!!bail);
            callback(null, resp);
        };

        if (options.typescript !== undefined && typeof options.typescript !== "boolean") {
            return reply("typescript option must be a boolean");
        }
        if (options.tsconfig !== undefined && typeof options.tsconfig !== "string") {
            return reply("tsconfigpath option must be a string");
        }
        if (options.nodeargs !== undefined && typeof options.nodeargs !== "string") {
            return reply("nodeargs option must be a string");
        }
        let runPath = process.env.PULUMI_LANGUAGE_NODEJS_RUN_PATH || "@pulumi/pulumi/cmd/run";
        try {
            runPath = createRequire(path.join(programDir, "noop.js")).resolve(runPath);
        } catch {
            return reply("It looks like the Pulumi SDK has not been installed. Have you run pulumi install?\n");
        }

        const args = [runPath];
        const add = (k, v) => {
            if (v !== undefined && v !== null && `${v}` !== "") args.push(`--${k}`, `${v}`);
        };
        add("monitor", r.getMonitorAddress());
        add("engine", engineAddress);
        add("organization", r.getOrganization());
        add("project", r.getProject());
        add("root-directory", rootDir);
        add("stack", r.getStack());
        add("pwd", programDir);
        if (r.getDryrun()) args.push("--dry-run");
        add("parallel", r.getParallel());
        add("tracing", opts.tracing);
        args.push(entryPoint, ...r.getArgsList());

        // The Go host rewrites "ns:name" keys to the older "ns:config:name" form; the SDK reads both.
        const config = {};
        for (const [k, v] of r.getConfigMap().entries()) {
            const i = k.indexOf(":");
            config[i < 0 ? k : `${k.slice(0, i)}:config:${k.slice(i + 1)}`] = v;
        }
        const env = { ...process.env };
        env.PULUMI_CONFIG = JSON.stringify(config);
        env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(r.getConfigsecretkeysList() || []);
        if (options.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";
        if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;

        const nodeArgs = options.nodeargs ? options.nodeargs.split(/\s+/).filter(Boolean) : [];
        const child = childProcess.spawn(process.execPath, [...nodeArgs, ...args], {
            env,
            stdio: ["ignore", "inherit", "inherit"],
        });
        children.add(child);
        child.on("error", (e) => {
            children.delete(child);
            reply(`Problem executing program (could not run language executor): ${e.message}`);
        });
        child.on("exit", (code, signal) => {
            children.delete(child);
            if (code === 0) return reply("");
            if (code === USER_ACTIONABLE_EXIT) return reply("", true);
            if (code === null) return reply(`Program exited unexpectedly: signal ${signal}`);
            return reply(`Program exited with non-zero exit code: ${code}`);
        });
    };

    const requiredPackagesOf = (call) => {
        const info = call.request.getInfo();
        const dir = (info && info.getProgramDirectory()) || call.request.getProgram() || process.cwd();
        return requiredPackages(dir);
    };

    const impl = {
        handshake(call, callback) {
            if (call.request.getEngineAddress()) engineAddress = call.request.getEngineAddress();
            callback(null, new lang.LanguageHandshakeResponse());
        },
        getPluginInfo(_call, callback) {
            const resp = new plugin.PluginInfo();
            resp.setVersion(opts.pluginVersion);
            callback(null, resp);
        },
        getRequiredPackages(call, callback) {
            const resp = new lang.GetRequiredPackagesResponse();
            resp.setPackagesList(
                requiredPackagesOf(call).map((p) => {
                    const d = new plugin.PackageDependency();
                    d.setName(p.name);
                    d.setKind("resource");
                    d.setVersion(p.version);
                    d.setServer(p.server);
                    return d;
                }),
            );
            callback(null, resp);
        },
        getRequiredPlugins(call, callback) {
            const resp = new lang.GetRequiredPluginsResponse();
            resp.setPluginsList(
                requiredPackagesOf(call).map((p) => {
                    const d = new plugin.PluginDependency();
                    d.setName(p.name);
                    d.setKind("resource");
                    d.setVersion(p.version);
                    d.setServer(p.server);
                    return d;
                }),
            );
            callback(null, resp);
        },
        run,
        about(_call, callback) {
            const resp = new lang.AboutResponse();
            resp.setExecutable(process.execPath);
            resp.setVersion(process.version);
            callback(null, resp);
        },
        getProgramDependencies(call, callback) {
            const info = call.request.getInfo();
            const dir = (info && info.getProgramDirectory()) || call.request.getPwd() || process.cwd();
            const resp = new lang.GetProgramDependenciesResponse();
            const deps = [];
            let pkgDir = dir;
            while (!fs.existsSync(path.join(pkgDir, "package.json")) && path.dirname(pkgDir) !== pkgDir) {
                pkgDir = path.dirname(pkgDir);
            }
            try {
                const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
                const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).sort();
                const from = createRequire(path.join(pkgDir, "noop.js"));
                for (const name of names) {
                    let version = "";
                    try {
                        version = JSON.parse(fs.readFileSync(from.resolve(`${name}/package.json`), "utf8")).version;
                    } catch {
                        // not installed, or no package.json export
                    }
                    const d = new lang.DependencyInfo();
                    d.setName(name);
                    d.setVersion(version);
                    deps.push(d);
                }
            } catch {
                // no package.json: no dependencies to report
            }
            resp.setDependenciesList(deps);
            callback(null, resp);
        },
        runtimeOptionsPrompts(_call, callback) {
            callback(null, new lang.RuntimeOptionsResponse());
        },
        cancel(_call, callback) {
            for (const child of children) child.kill("SIGINT");
            callback(null, new emptyPb.Empty());
        },
    };

    const server = new grpc.Server({
        "grpc.max_receive_message_length": 400 * 1024 * 1024,
        "grpc.max_send_message_length": 400 * 1024 * 1024,
    });
    server.addService(services.LanguageRuntimeService, impl);
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) {
            process.stderr.write(`could not start language host RPC server: ${err.message}\n`);
            process.exit(1);
        }
        process.stdout.write(`${port}\n`);
    });

    // The Go host health-checks the engine and exits when it goes away; we exit when our parent (the engine,
    // which our sh launcher exec'd from) is gone, and on the signals the engine uses to stop plugins.
    const parent = process.ppid;
    const stop = () => {
        for (const child of children) child.kill("SIGINT");
        server.forceShutdown();
        process.exit(0);
    };
    setInterval(() => {
        if (process.ppid !== parent) stop();
    }, 1000).unref();
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
}

main();
