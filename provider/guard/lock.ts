/**
 * One guard window per router: Pulumi runs resources in parallel in one plugin process, so writes to
 * the same router from this process queue here. Other processes are kept out by the router-side
 * pending marker (GuardBusyError).
 */
const tails = new Map<string, Promise<unknown>>();

export async function withRouterLock<T>(router: string, work: () => Promise<T>): Promise<T> {
  const before = tails.get(router) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(work);
  const tail = run.catch(() => undefined);
  tails.set(router, tail);
  try {
    return await run;
  } finally {
    if (tails.get(router) === tail) tails.delete(router);
  }
}
