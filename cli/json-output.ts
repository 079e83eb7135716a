/**
 * The version of every `--json` document. Adding a field keeps it; removing or renaming one, or
 * changing what a field means, bumps it, so a script can refuse a document it does not understand.
 */
export const JSON_SCHEMA_VERSION = 1;

export type JsonCommand = "audit" | "drift" | "snapshots" | "rollback";

/** The envelope every `--json` output shares (documented in the README): what it is, which version, when. */
export interface JsonEnvelope {
  schema: `openwrt-offload/${JsonCommand}`;
  schemaVersion: number;
  generatedAt: string;
}

export function jsonDocument(command: JsonCommand, body: object, generatedAt: Date): string {
  const envelope: JsonEnvelope = { schema: `openwrt-offload/${command}`, schemaVersion: JSON_SCHEMA_VERSION, generatedAt: generatedAt.toISOString() };
  return `${JSON.stringify({ ...envelope, ...body }, null, 2)}\n`;
}
