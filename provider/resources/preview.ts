import { randomUUID } from "crypto";
import { writeRefusals } from "../device/apply";
import type { ChangeSet } from "../device/changeset";
import { readFacts, type RouterFacts } from "../device/facts";
import { refusalMessage, type Refusal } from "../device/preflight";
import { routerShell } from "../device/shell";
import { isUnknown, RECENT_READ_MS, toConnectionOptions, type CheckFailure, type RouterConnection } from "./common";

/**
 * What `check` learns from the router before anything is written, at every preview: the refusals
 * `up` would make (as check failures, with the same message), warnings, and the router-level changes
 * `up` would make (`planned`, shown in the preview's diff as `flow_offloading: "0" → "1"` and the like).
 * Read-only and bounded in time; when the router cannot be read, the warning says the checks were
 * not made and `up` makes them before it changes anything.
 */
export interface RouterPreview {
  failures: CheckFailure[];
  warnings: string[];
  planned: string[];
  /** Names this reading of the router; the outputs of the up it leads to carry it on (see routerChangesPending). */
  planId: string;
}

/** What a resource concludes from the facts: refusals, warnings, planned changes, and the write it would make. */
export interface Judgement {
  refusals: Refusal[];
  warnings: string[];
  planned: string[];
  /** The write up would make (none when there is nothing to do), judged like any write: flash and staged changes. */
  write?: { changes: ChangeSet; minFreeKiB: number };
}

/** A preview reads a router with short timeouts and no connect retries: it must not hang on an unreachable one. */
const PREVIEW_CONNECT_MS = 5000;
const PREVIEW_EXEC_MS = 20_000;

export async function previewOnRouter(connection: unknown, judge: (facts: RouterFacts) => Judgement): Promise<RouterPreview> {
  if (connection === undefined || isUnknown(connection)) {
    return { failures: [], warnings: ["not checked at preview: the router's connection is not known until its Router exists; up checks before it changes anything"], planned: [], planId: randomUUID() };
  }
  const given = connection as RouterConnection;
  const shell = routerShell(
    toConnectionOptions(given, {
      connectTimeoutMs: Math.min(given.connectTimeoutMs ?? PREVIEW_CONNECT_MS, PREVIEW_CONNECT_MS),
      execTimeoutMs: Math.min(given.execTimeoutMs ?? PREVIEW_EXEC_MS, PREVIEW_EXEC_MS),
      connectRetries: 0,
    }),
  );
  let facts: RouterFacts;
  try {
    facts = await readFacts(shell, { recent: RECENT_READ_MS });
  } catch (err) {
    return { failures: [], warnings: [`not checked at preview: ${shell.router} could not be read (${(err as Error).message}); up checks before it changes anything`], planned: [], planId: randomUUID() };
  }
  const { refusals, warnings, planned, write } = judge(facts);
  const failures = [
    ...refusals.map((r) => ({ property: r.property || "(router)", reason: refusalMessage(shell.router, [r.message]) })),
    // The write path's own refusals (OverlayFullError, ForeignChangesError) read the same at preview as at up.
    ...(write ? writeRefusals(shell.router, facts, write.changes, write.minFreeKiB) : []).map((r) => ({ property: r.property || "(router)", reason: r.message })),
  ];
  return { failures, warnings, planned, planId: randomUUID() };
}

/**
 * Whether the router needs a write although the declared settings are unchanged. At preview and up, check has just read
 * the router, so `news.planned` is live. At refresh the engine calls diff with the refreshed state as `olds` and the
 * inputs stored by the last up as `news` (its desired-state refresh diff): that `planned` was made before the last up
 * carried it out, which `olds` shows by holding the same planId; there, the router's drift is what is live.
 */
export function routerChangesPending(olds: { planId?: string; drift?: unknown[] }, news: { planned?: string[]; planId?: string }): boolean {
  if (news.planId !== undefined && news.planId === olds.planId) return (olds.drift ?? []).length > 0;
  return (news.planned ?? []).length > 0;
}
