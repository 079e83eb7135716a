import * as fs from "fs";
import type { OffloadIntent } from "../provider/device/offload";

export const FIREWALL_DEFAULTS_TYPE = "pulumi-nodejs:dynamic/openwrt:FirewallDefaults";

/** How Pulumi marks a secret value in state: `{ [SIG]: SECRET_SIG, plaintext | ciphertext }`. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** One FirewallDefaults resource of a stack: which router, and what the program declared for it. */
export interface StackDeclaration {
  urn: string;
  /** The resource's name (the last part of its URN). */
  name: string;
  host: string;
  port: number;
  declared: OffloadIntent;
  /** The firmware identity the resource last saw, to tell a reflashed router. */
  firmware?: string;
}

export class StackExportError extends Error {
  constructor(file: string, detail: string) {
    super(`stack export ${file}: ${detail}`);
    this.name = "StackExportError";
  }
}

/**
 * Secrets appear as wrappers in state; `pulumi stack export --show-secrets` puts the JSON text of
 * the value in `plaintext`, a plain export only `ciphertext`, which this tool cannot decrypt.
 */
function unwrap(value: unknown, where: string, file: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => unwrap(v, `${where}[${i}]`, file));
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  if (obj[SIG_KEY] === SECRET_SIG) {
    if (typeof obj.plaintext === "string") {
      try {
        return unwrap(JSON.parse(obj.plaintext), where, file);
      } catch {
        throw new StackExportError(file, `${where}: a secret whose plaintext is not JSON`);
      }
    }
    throw new StackExportError(file, `${where} is an encrypted secret: export the stack with \`pulumi stack export --show-secrets\``);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrap(v, `${where}.${k}`, file)]));
}

export function parseStackExport(text: string, file = "stack export"): StackDeclaration[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new StackExportError(file, `not JSON (${(err as Error).message}); make it with \`pulumi stack export --show-secrets --file FILE\``);
  }
  const root = doc as { version?: unknown; deployment?: { resources?: unknown } } | null;
  if (root?.version !== 3) throw new StackExportError(file, `expected a \`pulumi stack export\` document of version 3, got version ${JSON.stringify(root?.version)}`);
  const resources = root.deployment?.resources ?? [];
  if (!Array.isArray(resources)) throw new StackExportError(file, "deployment.resources is not a list");
  return resources
    .filter((r: { type?: unknown; delete?: unknown }) => r?.type === FIREWALL_DEFAULTS_TYPE && r.delete !== true)
    .map((r: { urn?: unknown; outputs?: unknown }): StackDeclaration => {
      const urn = typeof r.urn === "string" ? r.urn : "(no urn)";
      const outputs = unwrap(r.outputs ?? {}, `${urn}: outputs`, file) as { connection?: { host?: unknown; port?: unknown }; declared?: Partial<OffloadIntent>; firmware?: unknown };
      const { connection, declared } = outputs;
      if (typeof connection?.host !== "string") throw new StackExportError(file, `${urn}: outputs.connection.host is missing`);
      if (typeof declared?.flowOffloading !== "boolean" || typeof declared.flowOffloadingHw !== "boolean") {
        throw new StackExportError(file, `${urn}: outputs.declared must hold the booleans flowOffloading and flowOffloadingHw`);
      }
      return {
        urn,
        name: urn.split("::").pop()!,
        host: connection.host,
        port: typeof connection.port === "number" ? connection.port : 22,
        declared: { flowOffloading: declared.flowOffloading, flowOffloadingHw: declared.flowOffloading && declared.flowOffloadingHw },
        firmware: typeof outputs.firmware === "string" ? outputs.firmware : undefined,
      };
    });
}

export function readStackExport(file: string): StackDeclaration[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new StackExportError(file, (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message);
  }
  return parseStackExport(text, file);
}
