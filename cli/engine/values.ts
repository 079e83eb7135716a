import * as pulumi from "@pulumi/pulumi";

/**
 * Property values as the SDK and the engine exchange them: JSON, plus two in-band markers the SDK understands.
 * A secret is `{ [SIG_KEY]: SECRET_SIG, value }`; an unknown (preview only) is the string UNKNOWN.
 */
export type PropertyValue = null | boolean | number | string | PropertyValue[] | { [key: string]: PropertyValue };
export type PropertyMap = { [key: string]: PropertyValue };

export const SIG_KEY = pulumi.runtime.specialSigKey;
export const SECRET_SIG = pulumi.runtime.specialSecretSig;
export const UNKNOWN = pulumi.runtime.unknownValue;

export function isObject(v: PropertyValue | undefined): v is PropertyMap {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isSecret(v: PropertyValue | undefined): v is { [SIG_KEY]: string; value: PropertyValue } {
  return isObject(v) && v[SIG_KEY] === SECRET_SIG;
}

export function makeSecret(v: PropertyValue): PropertyValue {
  return isSecret(v) ? v : { [SIG_KEY]: SECRET_SIG, value: v };
}

export function containsSecret(v: PropertyValue | undefined): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (isObject(v)) return Object.values(v).some(containsSecret);
  return false;
}

/** The value with every secret wrapper removed: what a provider that does not accept secrets is sent. */
export function reveal(v: PropertyValue): PropertyValue {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (isObject(v)) return mapValues(v, reveal);
  return v;
}

export function revealMap(m: PropertyMap): PropertyMap {
  return mapValues(m, reveal);
}

/**
 * The engine's rule (annotateSecrets in the Go provider plugin): an output is secret when the input under the same key
 * held a secret. Objects on both sides are matched key by key; anything else becomes secret as a whole.
 */
export function annotateSecrets(outs: PropertyMap, ins: PropertyMap): PropertyMap {
  const result: PropertyMap = { ...outs };
  for (const [key, input] of Object.entries(ins)) {
    const output = result[key];
    if (output === undefined) continue;
    if (isObject(output) && !isSecret(output) && isObject(input) && !isSecret(input)) {
      result[key] = annotateSecrets(output, input);
    } else if (!isSecret(output) && containsSecret(input)) {
      result[key] = makeSecret(output);
    }
  }
  return result;
}

/** `additionalSecretOutputs`: top-level keys the program asked to keep secret whatever the provider returns. */
export function markSecretKeys(m: PropertyMap, keys: readonly string[]): PropertyMap {
  const result: PropertyMap = { ...m };
  for (const key of keys) {
    const v = result[key];
    if (v !== undefined) result[key] = makeSecret(v);
  }
  return result;
}

export function secretKeysOf(m: PropertyMap): string[] {
  return Object.keys(m).filter((k) => containsSecret(m[k]));
}

/** Equality of the revealed values: secretness alone is not a change a provider can act on. */
export function sameValue(a: PropertyValue | undefined, b: PropertyValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(reveal(a)) === canonicalJson(reveal(b));
}

function canonicalJson(v: PropertyValue): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Top-level keys whose values differ, in a stable order, leaving out the ones in `skip`. */
export function differingKeys(olds: PropertyMap, news: PropertyMap, skip: readonly string[] = []): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => !skip.includes(k) && !sameValue(olds[k], news[k])).sort();
}

/**
 * Converts what the SDK hands the mocks (secrets still wrapped, unknowns as the SDK's `unknown` object) to property
 * values. Resource references and assets have no meaning to a dynamic provider, so they are rejected here, by path.
 */
export function fromSdk(v: unknown, path: string): PropertyValue {
  if (pulumi.isUnknown(v)) return UNKNOWN;
  if (v === null || typeof v === "boolean" || typeof v === "number" || typeof v === "string") return v;
  if (Array.isArray(v)) return v.map((e, i) => fromSdk(e, `${path}[${i}]`));
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const result: PropertyMap = {};
    for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
      if (e !== undefined) result[k] = fromSdk(e, path ? `${path}.${k}` : k);
    }
    return result;
  }
  throw new Error(`${path}: unsupported property value (${describe(v)}); dynamic providers take plain JSON values`);
}

function describe(v: unknown): string {
  if (typeof v !== "object" || v === null) return typeof v;
  return v.constructor?.name ?? "object";
}

export interface DisplayOptions {
  showSecrets?: boolean;
}

/** Plain JS for people and logs: secrets masked as "[secret]" unless asked, unknowns shown as "[unknown]". */
export function toDisplay(v: PropertyValue, opts: DisplayOptions = {}): unknown {
  if (isSecret(v)) return opts.showSecrets ? toDisplay(v.value, opts) : "[secret]";
  if (v === UNKNOWN) return "[unknown]";
  if (Array.isArray(v)) return v.map((e) => toDisplay(e, opts));
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, toDisplay(e, opts)]));
  return v;
}

function mapValues(m: PropertyMap, f: (v: PropertyValue) => PropertyValue): PropertyMap {
  const result: PropertyMap = {};
  for (const [k, v] of Object.entries(m)) result[k] = f(v);
  return result;
}
