import { promises as fs } from "node:fs";
import * as path from "node:path";
import { PassphraseCrypter, type PassphraseParams } from "./secrets";
import { isObject, isSecret, makeSecret, SECRET_SIG, SIG_KEY, type PropertyMap, type PropertyValue } from "./values";

export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  /** false for component resources, which no provider manages */
  custom: boolean;
  id?: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
  /** top-level output keys holding secrets, for readers of the file; the values themselves carry the marking */
  secretOutputs: string[];
  /** kept because refresh re-applies them to what Read returns, without the program */
  additionalSecretOutputs: string[];
  dependencies: string[];
}

export interface StackState {
  resources: ResourceState[];
  outputs: PropertyMap;
}

const STATE_VERSION = 1;

interface StateFile {
  version: number;
  project: string;
  stack: string;
  secretsProvider: { type: "passphrase" } & PassphraseParams;
  outputs: PropertyMap;
  resources: ResourceState[];
}

/**
 * The JSON state file. In memory, secrets are the SDK's wrapped plaintext; on disk, the wrapper keeps Pulumi's signature
 * but holds `ciphertext` instead of `value`, so no secret reaches the file in clear and secretness survives a reload.
 */
export class StateStore {
  private crypter: PassphraseCrypter | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly statePath: string,
    private readonly passphrase: string,
    private readonly project: string,
    private readonly stack: string,
  ) {}

  async load(): Promise<StackState> {
    let text: string;
    try {
      text = await fs.readFile(this.statePath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { resources: [], outputs: {} };
      throw err;
    }
    const file = JSON.parse(text) as StateFile;
    if (file.version !== STATE_VERSION) throw new Error(`${this.statePath}: unsupported state version ${file.version}`);
    if (file.project !== this.project || file.stack !== this.stack) {
      throw new Error(
        `${this.statePath} holds stack ${file.project}/${file.stack}, not ${this.project}/${this.stack}`,
      );
    }
    this.crypter = PassphraseCrypter.open(this.passphrase, file.secretsProvider);
    const crypter = this.crypter;
    const decode = (m: PropertyMap): PropertyMap => decodeMap(m, crypter);
    return {
      outputs: decode(file.outputs),
      resources: file.resources.map((r) => ({ ...r, inputs: decode(r.inputs), outputs: decode(r.outputs) })),
    };
  }

  /** Writes are queued so concurrent steps cannot interleave, and each replaces the file atomically. */
  save(state: StackState): Promise<void> {
    const crypter = (this.crypter ??= PassphraseCrypter.create(this.passphrase));
    const encode = (m: PropertyMap): PropertyMap => encodeMap(m, crypter);
    const file: StateFile = {
      version: STATE_VERSION,
      project: this.project,
      stack: this.stack,
      secretsProvider: { type: "passphrase", ...crypter.params },
      outputs: encode(state.outputs),
      resources: state.resources.map((r) => ({
        urn: r.urn,
        type: r.type,
        name: r.name,
        ...(r.parent ? { parent: r.parent } : {}),
        custom: r.custom,
        ...(r.id !== undefined ? { id: r.id } : {}),
        inputs: encode(r.inputs),
        outputs: encode(r.outputs),
        secretOutputs: r.secretOutputs,
        additionalSecretOutputs: r.additionalSecretOutputs,
        dependencies: r.dependencies,
      })),
    };
    const text = `${JSON.stringify(file, null, 2)}\n`;
    const write = this.writes.then(() => writeAtomically(this.statePath, text));
    this.writes = write.catch(() => undefined);
    return write;
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o600 });
  await fs.rename(tmp, file);
}

function encodeMap(m: PropertyMap, crypter: PassphraseCrypter): PropertyMap {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, encodeValue(v, crypter)]));
}

function encodeValue(v: PropertyValue, crypter: PassphraseCrypter): PropertyValue {
  if (isSecret(v)) return { [SIG_KEY]: SECRET_SIG, ciphertext: crypter.encrypt(JSON.stringify(v.value)) };
  if (Array.isArray(v)) return v.map((e) => encodeValue(e, crypter));
  if (isObject(v)) return encodeMap(v, crypter);
  return v;
}

function decodeMap(m: PropertyMap, crypter: PassphraseCrypter): PropertyMap {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, decodeValue(v, crypter)]));
}

function decodeValue(v: PropertyValue, crypter: PassphraseCrypter): PropertyValue {
  if (isObject(v) && v[SIG_KEY] === SECRET_SIG && typeof v.ciphertext === "string") {
    return makeSecret(JSON.parse(crypter.decrypt(v.ciphertext)) as PropertyValue);
  }
  if (Array.isArray(v)) return v.map((e) => decodeValue(e, crypter));
  if (isObject(v)) return decodeMap(v, crypter);
  return v;
}
