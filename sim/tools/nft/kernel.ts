import type { Loc, Token } from "./lexer";
import { type ParsedRule, type SetElement, type Stmt, anonSetCount, parseSetElements } from "./rules";

export interface ChainBase {
  type: string;
  hook: string;
  prio: number;
  policy: string;
  device?: string;
}

export interface NftRule {
  handle: number;
  stmts: Stmt[];
  comment?: string;
}

export interface NftChain {
  name: string;
  handle: number;
  base?: ChainBase;
  rules: NftRule[];
}

export interface NftFlowtable {
  name: string;
  handle: number;
  hook: string;
  prio: number;
  devices: string[];
  offload: boolean;
  counter: boolean;
}

export interface NftSet {
  name: string;
  handle: number;
  /** `ipv4_addr`, or `ipv4_addr . inet_service` for concatenations. */
  type: string;
  /** Maps carry `type a : b`. */
  dataType?: string;
  flags: string[];
  autoMerge: boolean;
  /** Rendered elements in nft's listing order (by key). */
  elements: SetElement[];
}

export interface NftTable {
  family: string;
  name: string;
  handle: number;
  /** Chains, sets, flowtables and rules of a table share one handle counter; flushing does not reset it. */
  lastHandle: number;
  chains: NftChain[];
  sets: NftSet[];
  flowtables: NftFlowtable[];
}

export interface NftState {
  tables: NftTable[];
  /** Table handles come from one per-netns counter. */
  lastTableHandle: number;
}

/** What the kernel consults outside nf_tables when it validates a batch. */
export interface KernelEnv {
  modules: ReadonlySet<string>;
  deviceExists(name: string): boolean;
  acceptsHwOffload(devices: string[]): boolean;
}

export type Errno = "ENOENT" | "EOPNOTSUPP" | "EEXIST" | "EBUSY" | "EINVAL";

export const STRERROR: Record<Errno, string> = {
  ENOENT: "No such file or directory",
  EOPNOTSUPP: "Operation not supported",
  EEXIST: "File exists",
  EBUSY: "Device or resource busy",
  EINVAL: "Invalid argument",
};

export interface KernelError {
  errno: Errno;
  loc?: Loc;
}

export interface FlowtableInfo {
  family: string;
  table: string;
  name: string;
  handle: number;
  hook: string;
  priority: number;
  devices: string[];
  hwOffload: boolean;
  counter: boolean;
}

export interface FlowOffloadRule {
  family: string;
  table: string;
  chain: string;
  /** The hook of the chain when it is a base chain (`forward` for fw4's offload rule). */
  hook?: string;
  handle: number;
  flowtable: string;
}

/**
 * The router's nf_tables ruleset. The nft emulator changes it through batches (all or nothing, like the
 * kernel's transactions); other simulator parts read it through the query methods.
 */
export class NftKernel {
  private current: NftState = emptyState();

  /** A reboot: the ruleset and every handle counter start over. */
  reset(): void {
    this.current = emptyState();
  }

  get state(): Readonly<NftState> {
    return this.current;
  }

  tables(): { family: string; name: string; handle: number }[] {
    return this.current.tables.map((t) => ({ family: t.family, name: t.name, handle: t.handle }));
  }

  table(family: string, name: string): Readonly<NftTable> | undefined {
    return findTable(this.current, family, name);
  }

  flowtables(): FlowtableInfo[] {
    return this.current.tables.flatMap((t) =>
      t.flowtables.map((f) => ({
        family: t.family,
        table: t.name,
        name: f.name,
        handle: f.handle,
        hook: f.hook,
        priority: f.prio,
        devices: [...f.devices],
        hwOffload: f.offload,
        counter: f.counter,
      })),
    );
  }

  flowtable(family: string, table: string, name: string): FlowtableInfo | undefined {
    return this.flowtables().find((f) => f.family === family && f.table === table && f.name === name);
  }

  /** Every `flow add @ft` statement in the ruleset. */
  flowOffloadRules(): FlowOffloadRule[] {
    return this.current.tables.flatMap((t) =>
      t.chains.flatMap((c) =>
        c.rules.flatMap((r) =>
          r.stmts.flatMap((s) =>
            s.kind === "flow" ? [{ family: t.family, table: t.name, chain: c.name, hook: c.base?.hook, handle: r.handle, flowtable: s.flowtable }] : [],
          ),
        ),
      ),
    );
  }

  /** Whether a forward base chain of that table offloads flows into the given flowtable. */
  forwardOffloads(family: string, table: string, flowtable: string): boolean {
    return this.flowOffloadRules().some((r) => r.family === family && r.table === table && r.hook === "forward" && r.flowtable === flowtable);
  }

  /**
   * Runs one transaction: `ops` change a private copy; the copy replaces the ruleset only when no
   * operation failed and this is not a check (`nft -c`). Every failure is reported, as the kernel does.
   * Handles the batch allocated stay taken either way (see Batch).
   */
  transaction(env: KernelEnv, check: boolean, ops: (batch: Batch) => void): KernelError[] {
    const batch = new Batch(this.current, env);
    ops(batch);
    if (batch.errors.length === 0 && !check) this.current = batch.state;
    return batch.errors;
  }
}

function emptyState(): NftState {
  return { tables: [], lastTableHandle: 0 };
}

export function findTable(state: NftState, family: string, name: string): NftTable | undefined {
  return state.tables.find((t) => t.family === family && t.name === name);
}

export interface TableRef {
  family: string;
  table: string;
  tableLoc?: Loc;
}

export interface FlowtableSpec {
  hook: string;
  prio: number;
  devices: string[];
  offload: boolean;
  counter: boolean;
}

export interface SetSpec {
  type: string;
  dataType?: string;
  flags: string[];
  autoMerge: boolean;
  elements: SetElement[];
}

/**
 * The kernel side of one netlink batch, applied in order to a working copy of `live`. The kernel never gives
 * back a handle, not even when the batch is aborted or only checked (`nft -c`), so every allocation also
 * advances the counters of the live ruleset.
 */
export class Batch {
  readonly errors: KernelError[] = [];
  readonly state: NftState;
  /** Working copy of a table → the live table it was copied from. */
  private readonly origins = new Map<NftTable, NftTable>();

  constructor(
    private readonly live: NftState,
    private readonly env: KernelEnv,
  ) {
    this.state = structuredClone(live);
    this.state.tables.forEach((t, i) => this.origins.set(t, live.tables[i]));
  }

  private fail(errno: Errno, loc?: Loc): undefined {
    this.errors.push({ errno, loc });
    return undefined;
  }

  private tableOf(ref: TableRef): NftTable | undefined {
    return findTable(this.state, ref.family, ref.table) ?? this.fail("ENOENT", ref.tableLoc);
  }

  private nextHandle(table: NftTable): number {
    table.lastHandle++;
    const origin = this.origins.get(table);
    if (origin) origin.lastHandle = table.lastHandle;
    return table.lastHandle;
  }

  addTable(ref: TableRef, exclusive: boolean): void {
    if (findTable(this.state, ref.family, ref.table)) {
      if (exclusive) this.fail("EEXIST", ref.tableLoc);
      return;
    }
    this.live.lastTableHandle = ++this.state.lastTableHandle;
    this.state.tables.push({
      family: ref.family,
      name: ref.table,
      handle: this.state.lastTableHandle,
      lastHandle: 0,
      chains: [],
      sets: [],
      flowtables: [],
    });
  }

  deleteTable(ref: TableRef): void {
    const table = this.tableOf(ref);
    if (table) this.state.tables.splice(this.state.tables.indexOf(table), 1);
  }

  flushTable(ref: TableRef): void {
    const table = this.tableOf(ref);
    if (table) for (const chain of table.chains) chain.rules = [];
  }

  flushRuleset(family?: string): void {
    this.state.tables = this.state.tables.filter((t) => family !== undefined && t.family !== family);
  }

  addChain(ref: TableRef, name: string, nameLoc: Loc | undefined, base: ChainBase | undefined, exclusive: boolean): void {
    const table = this.tableOf(ref);
    if (!table) return;
    const existing = table.chains.find((c) => c.name === name);
    if (existing) {
      if (exclusive) return void this.fail("EEXIST", nameLoc);
      if (base && existing.base && (existing.base.hook !== base.hook || existing.base.type !== base.type)) return void this.fail("EOPNOTSUPP", nameLoc);
      if (base && !existing.base) return void this.fail("EOPNOTSUPP", nameLoc);
      if (base && existing.base) existing.base.policy = base.policy;
      return;
    }
    table.chains.push({ name, handle: this.nextHandle(table), base, rules: [] });
  }

  private chainOf(table: NftTable, name: string, loc: Loc | undefined): NftChain | undefined {
    return table.chains.find((c) => c.name === name) ?? this.fail("ENOENT", loc);
  }

  deleteChain(ref: TableRef, name: string, nameLoc: Loc | undefined): void {
    const table = this.tableOf(ref);
    const chain = table && this.chainOf(table, name, nameLoc);
    if (!table || !chain) return;
    const referenced = table.chains.some((c) => c !== chain && c.rules.some((r) => r.stmts.some((s) => s.kind === "plain" && s.jump === name)));
    if (referenced) return void this.fail("EBUSY", nameLoc);
    table.chains.splice(table.chains.indexOf(chain), 1);
  }

  flushChain(ref: TableRef, name: string, nameLoc: Loc | undefined): void {
    const table = this.tableOf(ref);
    const chain = table && this.chainOf(table, name, nameLoc);
    if (chain) chain.rules = [];
  }

  /**
   * `position` is a rule handle: insert before it, or append after it. nft sends a rule's anonymous sets
   * first, and the kernel takes the rule's handle before it resolves the position and the expressions, so
   * those handles are spent even when the rule is refused.
   */
  addRule(ref: TableRef, chainName: string, chainLoc: Loc | undefined, rule: ParsedRule, where: { insert: boolean; handle?: number; handleLoc?: Loc }): void {
    const table = this.tableOf(ref);
    if (!table) return;
    for (let i = 0; i < anonSetCount(rule); i++) this.nextHandle(table);
    const chain = this.chainOf(table, chainName, chainLoc);
    if (!chain) return;
    const handle = this.nextHandle(table);
    let index = where.insert ? 0 : chain.rules.length;
    if (where.handle !== undefined) {
      const at = chain.rules.findIndex((r) => r.handle === where.handle);
      if (at < 0) return void this.fail("ENOENT", where.handleLoc);
      index = where.insert ? at : at + 1;
    }
    let ok = true;
    for (const stmt of rule.stmts) {
      if (stmt.kind === "flow") {
        const present = this.env.modules.has("nft_flow_offload") && table.flowtables.some((f) => f.name === stmt.flowtable);
        if (!present) ok = !!this.fail("ENOENT", stmt.loc);
      } else if (stmt.kind === "plain") {
        if (stmt.jump !== undefined && !table.chains.some((c) => c.name === stmt.jump)) ok = !!this.fail("ENOENT", stmt.loc);
        if (stmt.setRef !== undefined && !table.sets.some((s) => s.name === stmt.setRef)) ok = !!this.fail("ENOENT", stmt.loc);
      }
    }
    if (!ok) return;
    const stored: NftRule = { handle, stmts: rule.stmts.map(withoutLoc), comment: rule.comment };
    chain.rules.splice(index, 0, stored);
  }

  deleteRule(ref: TableRef, chainName: string, chainLoc: Loc | undefined, handle: number, handleLoc: Loc | undefined): void {
    const table = this.tableOf(ref);
    const chain = table && this.chainOf(table, chainName, chainLoc);
    if (!chain) return;
    const at = chain.rules.findIndex((r) => r.handle === handle);
    if (at < 0) return void this.fail("ENOENT", handleLoc);
    chain.rules.splice(at, 1);
  }

  /**
   * A new flowtable takes its handle before the kernel looks up its type and devices. Redeclaring an existing
   * one adds devices; the offload flag, hook and priority cannot change in place (hence fw4's `delete flowtable`).
   */
  addFlowtable(ref: TableRef, name: string, loc: Loc | undefined, spec: FlowtableSpec, exclusive: boolean): void {
    const table = this.tableOf(ref);
    if (!table) return;
    const existing = table.flowtables.find((f) => f.name === name);
    if (existing && exclusive) return void this.fail("EEXIST", loc);
    const handle = existing?.handle ?? this.nextHandle(table);
    // nft_flow_offload pulls in the inet flowtable type; without it the kernel knows no flowtable type at all.
    if (!this.env.modules.has("nf_flow_table_inet")) return void this.fail("ENOENT", loc);
    if (spec.devices.some((d) => !this.env.deviceExists(d))) return void this.fail("ENOENT", loc);
    if (existing && (existing.offload !== spec.offload || existing.hook !== spec.hook || existing.prio !== spec.prio)) return void this.fail("EOPNOTSUPP", loc);
    const others = table.flowtables.filter((f) => f !== existing);
    if (spec.devices.some((d) => others.some((f) => f.devices.includes(d)))) return void this.fail("EEXIST", loc);
    const devices = existing ? [...existing.devices, ...spec.devices.filter((d) => !existing.devices.includes(d))] : [...spec.devices];
    if (spec.offload && !this.env.acceptsHwOffload(devices)) return void this.fail("EOPNOTSUPP", loc);
    if (existing) {
      existing.devices = devices;
      existing.counter = spec.counter;
      return;
    }
    table.flowtables.push({ name, handle, ...spec, devices });
  }

  deleteFlowtable(ref: TableRef, name: string, nameLoc: Loc | undefined): void {
    const table = this.tableOf(ref);
    if (!table) return;
    const ft = table.flowtables.find((f) => f.name === name);
    if (!ft) return void this.fail("ENOENT", nameLoc);
    const inUse = table.chains.some((c) => c.rules.some((r) => r.stmts.some((s) => s.kind === "flow" && s.flowtable === name)));
    if (inUse) return void this.fail("EBUSY", nameLoc);
    table.flowtables.splice(table.flowtables.indexOf(ft), 1);
  }

  addSet(ref: TableRef, name: string, nameLoc: Loc | undefined, spec: SetSpec, exclusive: boolean): void {
    const table = this.tableOf(ref);
    if (!table) return;
    const existing = table.sets.find((s) => s.name === name);
    if (existing) {
      if (exclusive || existing.type !== spec.type) return void this.fail(exclusive ? "EEXIST" : "EINVAL", nameLoc);
      this.mergeElements(existing, spec.elements);
      return;
    }
    const set: NftSet = { name, handle: this.nextHandle(table), type: spec.type, dataType: spec.dataType, flags: spec.flags, autoMerge: spec.autoMerge, elements: [] };
    this.mergeElements(set, spec.elements);
    table.sets.push(set);
  }

  /** Elements are typed by the set they go into, so they are parsed against the set the kernel has. */
  addElements(ref: TableRef, name: string, nameLoc: Loc | undefined, tokens: Token[]): void {
    const table = this.tableOf(ref);
    const set = table?.sets.find((s) => s.name === name);
    if (!table) return;
    if (!set) return void this.fail("ENOENT", nameLoc);
    this.mergeElements(set, parseSetElements(tokens, set.type.split(" . ")));
  }

  private mergeElements(set: NftSet, elements: SetSpec["elements"]): void {
    const keyed = new Map(set.elements.map((e) => [e.text, e]));
    for (const e of elements) keyed.set(e.text, e);
    set.elements = [...keyed.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  deleteSet(ref: TableRef, name: string, nameLoc: Loc | undefined): void {
    const table = this.tableOf(ref);
    if (!table) return;
    const set = table.sets.find((s) => s.name === name);
    if (!set) return void this.fail("ENOENT", nameLoc);
    const inUse = table.chains.some((c) => c.rules.some((r) => r.stmts.some((s) => s.kind === "plain" && s.setRef === name)));
    if (inUse) return void this.fail("EBUSY", nameLoc);
    table.sets.splice(table.sets.indexOf(set), 1);
  }

  flushSet(ref: TableRef, name: string, nameLoc: Loc | undefined): void {
    const table = this.tableOf(ref);
    const set = table?.sets.find((s) => s.name === name);
    if (!table) return;
    if (!set) return void this.fail("ENOENT", nameLoc);
    set.elements = [];
  }
}

/** Stored rules do not keep the input they came from. */
function withoutLoc(stmt: Stmt): Stmt {
  const copy = { ...stmt };
  delete copy.loc;
  return copy;
}
