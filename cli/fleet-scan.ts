import { readFacts, type RouterFacts } from "../provider/device/facts";
import { routerShell } from "../provider/device/shell";
import { connectionOf, type InventoryRouter } from "../provider/fleet/inventory";
import { explainConnectFailure } from "./connect-failures";
import { Progress } from "./progress";
import { AuthenticationError, ConnectTimeoutError, HostKeyMismatchError, TransportError } from "../provider/transport";

/** Why a router could not be read; each is a different thing for an operator to fix. */
export type ScanFailureKind = "unreachable" | "host-key-mismatch" | "auth-failed" | "read-failed";

export type ScanResult =
  | { router: InventoryRouter; facts: RouterFacts; failure?: undefined }
  | { router: InventoryRouter; facts?: undefined; failure: { kind: ScanFailureKind; message: string; fix: string | null } };

export interface ScanOptions {
  concurrency: number;
  /** Draw a bar on stderr; `force` draws it even when stderr is not a terminal. */
  progress: "off" | "tty" | "force";
  /** Names the bar ("audit", "drift"). */
  label: string;
  connectTimeoutMs: number;
}

function classify(err: unknown): ScanFailureKind {
  if (err instanceof HostKeyMismatchError) return "host-key-mismatch";
  if (err instanceof AuthenticationError) return "auth-failed";
  if (err instanceof ConnectTimeoutError || (err instanceof TransportError && err.purpose === "connect")) return "unreachable";
  return "read-failed";
}

async function scanOne(router: InventoryRouter, file: string | undefined, connectTimeoutMs: number): Promise<ScanResult> {
  try {
    return { router, facts: await readFacts(routerShell({ ...connectionOf(router, file), connectTimeoutMs })) };
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    // Transport errors start with the router's label; the report already names the router.
    const label = err instanceof TransportError ? `${err.router}: ` : "";
    const explained = explainConnectFailure(err, "inventory");
    return { router, failure: { kind: classify(err), message: label && text.startsWith(label) ? text.slice(label.length) : text, fix: explained ? `${explained.what} Fix: ${explained.fix}` : null } };
  }
}

/**
 * Reads the facts of every router, at most `concurrency` at a time. A router that fails is a
 * result, never an exception: one dead router must not hide the state of the rest of the fleet.
 * Results are in inventory order.
 */
export async function scanFleet(routers: InventoryRouter[], inventoryFile: string | undefined, opts: ScanOptions): Promise<ScanResult[]> {
  const results: ScanResult[] = new Array(routers.length);
  const bar = new Progress(process.stderr, {
    format: `${opts.label} [{bar}] {value}/{total} routers | {failed} failed | {last}`,
    enabled: opts.progress === "force" || (opts.progress === "tty" && process.stderr.isTTY === true),
    forced: opts.progress === "force",
  });
  let failed = 0;
  bar.start(routers.length, { failed, last: "" });
  let next = 0;
  const worker = async () => {
    while (next < routers.length) {
      const i = next++;
      results[i] = await scanOne(routers[i], inventoryFile, opts.connectTimeoutMs);
      const failure = results[i].failure;
      if (failure) failed++;
      // Under a bar, a failure is said when it happens, not only in the summary at the end.
      if (failure && bar.drawing) bar.log(`${opts.label}: ${routers[i].name}: ${failure.kind}: ${failure.message}`);
      bar.increment({ failed, last: routers[i].name });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, routers.length) }, worker));
  } finally {
    bar.stop();
  }
  return results;
}
