import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isMap, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { z } from "zod";
import { parseConnectionOptions, InvalidConnectionOptionsError, type ConnectionIssue, type ConnectionOptions } from "../transport";

/**
 * A fleet's inventory, in YAML or JSON (JSON is YAML): routers with their connection, labels and
 * optional per-router overrides, plus defaults every router inherits.
 *
 * ```yaml
 * defaults: { user: root, identityFile: ~/.ssh/fleet_ed25519 }
 * routers:
 *   - { name: edge-1, host: 192.0.2.1, hostKey: "SHA256:...", labels: { site: ams } }
 *   - { name: edge-2, host: 192.0.2.2, hostKey: "SHA256:...", mode: software }
 * ```
 */
const routerFields = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be a name of letters, digits, . _ - (it names the router's resources)"),
  host: z.string().min(1, "is required: the router's address"),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).default("root"),
  /** SHA256 fingerprint or public key of the router's host key. */
  hostKey: z.string().optional(),
  insecureIgnoreHostKey: z.boolean().optional(),
  /** Private key file (~ and paths relative to the inventory file work). */
  identityFile: z.string().optional(),
  /** Inline private key; meant for simulated fleets, prefer identityFile. */
  privateKey: z.string().optional(),
  /** Environment variable holding the password. */
  passwordEnv: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  /** Overrides the fleet policy for this router; `drift` compares against it. */
  mode: z.enum(["auto", "hardware", "software", "off"]).optional(),
};

export const inventoryRouterSchema = z.strictObject(routerFields);
const defaultsSchema = z.strictObject(routerFields).omit({ name: true, host: true }).partial();

export type InventoryRouter = z.output<typeof inventoryRouterSchema> & {
  /** Line of the router's entry in the inventory file, for messages. */
  line?: number;
};

export interface Inventory {
  file?: string;
  routers: InventoryRouter[];
}

export interface InventoryIssue {
  line?: number;
  path: string;
  message: string;
}

export class InventoryError extends Error {
  constructor(
    readonly file: string,
    readonly issues: InventoryIssue[],
  ) {
    super(`invalid inventory ${file}:\n${issues.map((i) => `  ${file}${i.line ? `:${i.line}` : ""}: ${i.path}: ${i.message}`).join("\n")}`);
    this.name = "InventoryError";
  }
}

/** Reads and validates an inventory file; every problem is reported with its line. */
export function loadInventory(file: string): Inventory {
  return parseInventory(fs.readFileSync(file, "utf8"), file);
}

export function parseInventory(text: string, file = "inventory"): Inventory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : undefined);
  if (doc.errors.length > 0) {
    throw new InventoryError(
      file,
      doc.errors.map((e) => ({ line: lines.linePos(e.pos[0]).line, path: "(syntax)", message: e.message.split("\n")[0] })),
    );
  }
  const issues: InventoryIssue[] = [];
  const root = doc.toJS() as { defaults?: unknown; routers?: unknown } | null;
  const rootNode = doc.contents;
  if (!root || typeof root !== "object" || !isMap(rootNode)) throw new InventoryError(file, [{ line: 1, path: "(document)", message: "must be a mapping with a `routers` list" }]);
  for (const key of Object.keys(root)) {
    if (key !== "defaults" && key !== "routers") issues.push({ line: lineOf(rootNode.getIn([key], true) as Node), path: key, message: "is not an inventory key (use defaults and routers)" });
  }
  const defaults = defaultsSchema.safeParse(root.defaults ?? {});
  if (!defaults.success) {
    for (const i of defaults.error.issues) {
      issues.push({ line: lineOf(doc.getIn(["defaults", ...i.path], true) as Node) ?? lineOf(doc.getIn(["defaults"], true) as Node), ...describeIssue(i, "defaults") });
    }
  }
  const routersNode = rootNode.get("routers", true);
  if (!Array.isArray(root.routers) || !isSeq(routersNode) || root.routers.length === 0) {
    issues.push({ line: lineOf(routersNode as Node) ?? 1, path: "routers", message: "is required: a list of at least one router" });
    throw new InventoryError(file, issues);
  }
  const routers: InventoryRouter[] = [];
  const seen = new Map<string, number>();
  (root.routers as unknown[]).forEach((entry, i) => {
    const where = (p: PropertyKey[]) => lineOf(doc.getIn(["routers", i, ...p], true) as Node) ?? lineOf(doc.getIn(["routers", i], true) as Node);
    const name = (entry as { name?: unknown } | null)?.name;
    if (typeof name === "string") {
      if (seen.has(name)) {
        issues.push({ line: where(["name"]), path: `routers[${i}].name`, message: `"${name}" is already used at line ${seen.get(name)}; names must be unique` });
        return;
      }
      seen.set(name, where([]) ?? 0);
    }
    const merged = { ...((defaults.success ? root.defaults : {}) as object), ...(entry as object) };
    const parsed = inventoryRouterSchema.safeParse(merged);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push({ line: where(issue.path), ...describeIssue(issue, `routers[${i}]`) });
      return;
    }
    const router: InventoryRouter = { ...parsed.data, line: where([]) };
    try {
      connectionOf(router, file);
    } catch (err) {
      if (!(err instanceof InvalidConnectionOptionsError)) throw err;
      for (const issue of err.issues) issues.push({ line: where([issue.path]), path: `routers[${i}].${issue.path}`, message: issue.message });
      return;
    }
    routers.push(router);
  });
  if (issues.length > 0) throw new InventoryError(file, issues);
  return { file, routers };
}

/** zod's wording, made to name the field and the fix. */
function describeIssue(issue: z.core.$ZodIssue, prefix: string): { path: string; message: string } {
  const at = [prefix, ...issue.path.map(String)].join(".");
  if (issue.code === "unrecognized_keys") {
    return { path: `${at}.${issue.keys[0]}`, message: `is not a router setting (known: ${Object.keys(routerFields).join(", ")})` };
  }
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) return { path: at, message: "is required" };
  return { path: at, message: issue.message };
}

/** The transport options for one inventory router (reads its key file and password variable). */
export function connectionOf(router: InventoryRouter, inventoryFile?: string): ConnectionOptions {
  const keyPath = router.identityFile && path.resolve(inventoryFile ? path.dirname(inventoryFile) : ".", router.identityFile.replace(/^~(?=$|\/)/, os.homedir()));
  let privateKey = router.privateKey;
  if (keyPath) {
    try {
      privateKey = fs.readFileSync(keyPath, "utf8");
    } catch {
      throw new InvalidConnectionOptionsError([{ path: "identityFile", message: `cannot read ${keyPath}` }]);
    }
  }
  const password = router.passwordEnv ? process.env[router.passwordEnv] : undefined;
  if (router.passwordEnv && password === undefined) {
    throw new InvalidConnectionOptionsError([{ path: "passwordEnv", message: `environment variable ${router.passwordEnv} is not set` }]);
  }
  try {
    return parseConnectionOptions({
      host: router.host,
      port: router.port,
      user: router.user,
      privateKey,
      password,
      hostKey: router.hostKey,
      insecureIgnoreHostKey: router.insecureIgnoreHostKey,
    });
  } catch (err) {
    if (!(err instanceof InvalidConnectionOptionsError)) throw err;
    throw new InvalidConnectionOptionsError(err.issues.map((issue) => inInventoryWords(issue, router)));
  }
}

/** The transport's wording names its own options; an inventory has other keys, and no trustOnFirstUse or password. */
function inInventoryWords(issue: ConnectionIssue, router: InventoryRouter): ConnectionIssue {
  switch (issue.code) {
    case "host-key-required":
      return {
        ...issue,
        message:
          "is required: set hostKey to the router's SHA256 fingerprint (ssh-keyscan -t ed25519 HOST | ssh-keygen -lf -), " +
          "or insecureIgnoreHostKey: true to skip verification (unsafe)",
      };
    case "host-key-exclusive":
      return { ...issue, path: "insecureIgnoreHostKey", message: "and hostKey exclude each other: set one of them" };
    case "auth-required":
      return {
        ...issue,
        path: "identityFile",
        message: "no way to log in: set identityFile (a private key file), privateKey (the key itself) or passwordEnv (an environment variable holding the password)",
      };
    case "key-unusable":
      return {
        ...issue,
        path: router.identityFile ? "identityFile" : "privateKey",
        message: `cannot be used (${issue.detail}): give an OpenSSH or PEM private key without a passphrase`,
      };
    default:
      return issue;
  }
}
