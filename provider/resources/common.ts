import { z } from "zod";
import { readFacts, type RouterFacts } from "../device/facts";
import { routerShell, type RouterShell } from "../device/shell";
import { parseConnectionOptions, InvalidConnectionOptionsError, type ConnectionOptions, type ConnectionOptionsInput } from "../transport";
import type { RouterConnection } from "../../sdk/types";

/** What the engine puts in place of a value it does not know yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface CheckFailure {
  property: string;
  reason: string;
}

/** The router a resource acts on: the `connection` object a Router resource outputs. */
export type { RouterConnection };

const CONNECTION_KEYS = [
  "host",
  "port",
  "user",
  "password",
  "privateKey",
  "privateKeyPassword",
  "hostKey",
  "insecureIgnoreHostKey",
  "agentSocketPath",
  "connectTimeoutMs",
  "execTimeoutMs",
] as const;

export function isUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}

/**
 * Validates a resource's inputs with its zod schema, the way `check` must: field-level failures
 * (`property`, `reason`), defaults applied, and during preview any value the engine does not know yet
 * is passed through untouched instead of being reported as invalid.
 */
export function checkInputs<S extends z.ZodObject>(
  schema: S,
  news: Record<string, unknown>,
  { withConnection }: { withConnection: boolean },
): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const unknownKeys = Object.keys(news).filter((k) => k !== "__provider" && isUnknown(news[k]));
  const known = Object.fromEntries(Object.entries(news).filter(([k]) => k !== "__provider" && !unknownKeys.includes(k)));
  const report = (issues: z.core.$ZodIssue[], prefix: string[] = []) => {
    for (const issue of issues) failures.push({ property: [...prefix, ...issue.path].join(".") || "(inputs)", reason: issue.message });
  };
  let parsed: { success: true; data: unknown } | { success: false } = { success: false };
  const onlyConnectionUnknown = unknownKeys.length === 1 && unknownKeys[0] === "connection";
  if (unknownKeys.length === 0 || onlyConnectionUnknown) {
    // At the first preview the Router does not exist yet, so its connection is unknown: every other
    // rule, cross-field ones included, is checked now against a stand-in connection.
    const result = schema.safeParse(onlyConnectionUnknown ? { ...known, connection: { host: "(not known yet)" } } : known);
    if (result.success) parsed = result;
    else report(result.error.issues.filter((i) => i.path[0] !== "connection"));
  } else {
    // Preview with unknowns: check each known field alone; cross-field rules wait for the real values.
    for (const [key, value] of Object.entries(known)) {
      const field = (schema.shape as Record<string, z.ZodType>)[key];
      const result = field?.safeParse(value);
      if (!field) failures.push({ property: key, reason: "is not an input of this resource" });
      else if (!result!.success) report(result!.error.issues, [key]);
    }
  }
  if (withConnection && news.connection !== undefined && !isUnknown(news.connection)) {
    failures.push(...connectionFailures(news.connection).map((f) => ({ ...f, property: `connection.${f.property}` })));
  }
  const inputs = { ...(parsed.success ? (parsed.data as Record<string, unknown>) : known) };
  for (const key of unknownKeys) inputs[key] = news[key];
  return { inputs: jsonSafe(inputs), failures };
}

/** Failures of connection options, naming fields and never echoing values. */
export function connectionFailures(connection: unknown): CheckFailure[] {
  try {
    parseConnectionOptions(connection);
    return [];
  } catch (err) {
    if (err instanceof InvalidConnectionOptionsError) return err.issues.map((i) => ({ property: i.path, reason: i.message }));
    throw err;
  }
}

export function toConnectionOptions(connection: RouterConnection, overrides: Partial<ConnectionOptionsInput> = {}): ConnectionOptions {
  const picked: Record<string, unknown> = Object.fromEntries(
    CONNECTION_KEYS.filter((k) => connection[k] !== undefined && connection[k] !== "").map((k) => [k, connection[k]]),
  );
  // An empty password is a real choice on a fresh router; keep it when it is the only way in.
  if (connection.password === "" && picked.privateKey === undefined) picked.password = "";
  return parseConnectionOptions({ ...picked, ...overrides });
}

export function shellFor(connection: RouterConnection): RouterShell {
  return routerShell(toConnectionOptions(connection));
}

/**
 * How old a probe may be to answer a read that plans a change or a preview: the checks of one
 * preview and a create right after its check come one after another, and one probe answers them
 * all, as long as nothing was written to the router in between. A refresh (`read`) takes only a
 * probe still running when it comes.
 */
export const RECENT_READ_MS = 5000;

/** The facts a change is planned on (see RECENT_READ_MS). */
export async function factsOf(connection: RouterConnection): Promise<{ shell: RouterShell; facts: RouterFacts }> {
  const shell = shellFor(connection);
  return { shell, facts: await readFacts(shell, { recent: RECENT_READ_MS }) };
}

/** `user@host:port`, the router part of every resource id. */
export function routerId(connection: RouterConnection): string {
  return toConnectionOptions(connection).router;
}

/** Outputs cross gRPC as protobuf Structs: no undefined anywhere (the plugin would fail the call). */
export function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Identity of the router: changing it means a different router, so the resource is replaced. */
export function routerIdentityChanged(olds: { connection?: RouterConnection }, news: { connection?: RouterConnection }): boolean {
  const a = olds.connection;
  const b = news.connection;
  if (!a || !b || isUnknown(b)) return false;
  return a.host !== b.host || (a.port ?? 22) !== (b.port ?? 22) || (a.user ?? "root") !== (b.user ?? "root");
}

/** Shallow comparison of the named fields, treating unknown news as a change (preview). */
export function changedKeys(olds: Record<string, unknown>, news: Record<string, unknown>, keys: readonly string[]): string[] {
  return keys.filter((k) => isUnknown(news[k]) || JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
}

/**
 * The diff of every resource bound to one router: another router is another resource (replaced,
 * deleting first, since what it manages is a singleton there); a changed setting or drift found by a
 * refresh is an update. Pure and cheap: diff runs on every preview and up.
 */
export function settingsDiff(olds: { connection?: RouterConnection; drift?: unknown[] } & object, news: { connection?: RouterConnection } & object, settings: readonly string[]) {
  if (routerIdentityChanged(olds, news)) return { changes: true, replaces: ["connection"], deleteBeforeReplace: true };
  const changed = changedKeys({ ...olds }, { ...news }, settings);
  return { changes: changed.length > 0 || (olds.drift ?? []).length > 0, replaces: [] as string[], deleteBeforeReplace: true };
}
