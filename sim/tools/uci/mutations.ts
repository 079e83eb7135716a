import { anonymousName } from "./anonymous-name";
import { UciErr, UciError } from "./errors";
import type { Delta, LoadedPackage } from "./loaded-package";
import type { UciSection } from "./model";
import type { Ptr } from "./ptr";
import { validateType } from "./validate";

/*
 * The package edits of list.c. `record` is false while replaying deltas or reading a file (uci's
 * "internal" calls) and true for the user's own changes, which are then staged.
 */

function stage(lp: LoadedPackage, record: boolean, delta: Delta): void {
  if (record && lp.hasDelta) lp.delta.push(delta);
}

function requireSection(ptr: Ptr): UciSection {
  if (!ptr.s) throw new UciError(UciErr.INVAL);
  return ptr.s;
}

function requireValue(ptr: Ptr): string {
  if (ptr.value === undefined) throw new UciError(UciErr.INVAL);
  return ptr.value;
}

/** sscanf("%d"): undefined when no number starts the text (after optional whitespace). */
export function scanInt(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** A new section allocated by the package: every allocation advances the counter. */
function allocSection(lp: LoadedPackage, name: string | undefined, type: string): UciSection {
  lp.counter++;
  const section: UciSection = {
    name: name ?? anonymousName(lp.counter, type),
    type,
    anonymous: name === undefined,
    options: new Map(),
  };
  lp.pkg.sections.push(section);
  return section;
}

export function addSection(lp: LoadedPackage, type: string, record: boolean): UciSection {
  const s = allocSection(lp, undefined, type);
  stage(lp, record, { cmd: "add", section: s.name, value: type });
  return s;
}

/** uci_set: create or change a section's type or an option; an empty value deletes. */
export function setValue(ptr: Ptr, record: boolean): void {
  const value = requireValue(ptr);
  if (!ptr.s && (ptr.option !== undefined || ptr.section === undefined)) throw new UciError(UciErr.INVAL);
  if (ptr.option === undefined && value !== "" && !validateType(value)) throw new UciError(UciErr.INVAL);
  if (value === "") {
    // Emptying something that does not exist is quietly nothing.
    if (ptr.complete) removeEntry(ptr, record);
    return;
  }
  if (ptr.option !== undefined) {
    const options = requireSection(ptr).options;
    if (options.get(ptr.option) === value) return;
    // A changed option keeps its place (a list becomes a plain string); a new one is appended.
    options.set(ptr.option, value);
  } else if (ptr.s) {
    ptr.s.type = value;
  } else {
    ptr.s = allocSection(ptr.lp, ptr.section, value);
  }
  stage(ptr.lp, record, { cmd: "change", section: ptr.section!, option: ptr.option, value });
}

/** uci_delete: a section, an option, or with a numeric value the N-th item of a list. */
export function removeEntry(ptr: Ptr, record: boolean): void {
  if (!ptr.complete) throw new UciError(UciErr.NOTFOUND);
  const s = requireSection(ptr);
  const { lp, option } = ptr;
  const current = option === undefined ? undefined : s.options.get(option);
  if (ptr.value !== undefined && Array.isArray(current)) {
    const index = scanInt(ptr.value);
    if (index === undefined || index < 0 || index >= current.length) return;
    current.splice(index, 1);
    stage(lp, record, { cmd: "remove", section: s.name, option, value: ptr.value });
    return;
  }
  stage(lp, record, { cmd: "remove", section: s.name, option });
  if (option !== undefined) s.options.delete(option);
  else lp.pkg.sections.splice(lp.pkg.sections.indexOf(s), 1);
}

/** uci_add_list: append, turning a plain option into a list (old value first). */
export function addListItem(ptr: Ptr, record: boolean): void {
  const s = requireSection(ptr);
  const value = requireValue(ptr);
  const option = ptr.option;
  if (option === undefined) throw new UciError(UciErr.INVAL);
  const current = s.options.get(option);
  if (Array.isArray(current)) current.push(value);
  else s.options.set(option, current === undefined ? [value] : [current, value]);
  stage(ptr.lp, record, { cmd: "list-add", section: s.name, option, value });
}

/** uci_del_list: drop every item equal to the value; nothing happens unless the option is a list. */
export function removeListItem(ptr: Ptr, record: boolean): void {
  const s = requireSection(ptr);
  const value = requireValue(ptr);
  const option = ptr.option;
  const current = option === undefined ? undefined : s.options.get(option);
  if (option === undefined || !Array.isArray(current)) return;
  stage(ptr.lp, record, { cmd: "list-del", section: s.name, option, value });
  s.options.set(
    option,
    current.filter((item) => item !== value),
  );
}

/** uci_rename: a renamed anonymous section becomes a named one. */
export function renameEntry(ptr: Ptr, record: boolean): void {
  if (!ptr.complete) throw new UciError(UciErr.NOTFOUND);
  const s = requireSection(ptr);
  const value = requireValue(ptr);
  stage(ptr.lp, record, { cmd: "rename", section: s.name, option: ptr.option, value });
  if (ptr.option === undefined) {
    s.name = value;
    s.anonymous = false;
    return;
  }
  const renamed = new Map<string, string | string[]>();
  for (const [key, v] of s.options) {
    if (key === value && key !== ptr.option) continue;
    renamed.set(key === ptr.option ? value : key, v);
  }
  s.options = renamed;
}

/** uci_reorder_section: position among all sections of the package, clamped to the ends. */
export function reorderSection(lp: LoadedPackage, s: UciSection, position: number, record: boolean): void {
  const sections = lp.pkg.sections;
  sections.splice(sections.indexOf(s), 1);
  sections.splice(Math.min(Math.max(position, 0), sections.length), 0, s);
  stage(lp, record, { cmd: "reorder", section: s.name, value: String(position) });
}
