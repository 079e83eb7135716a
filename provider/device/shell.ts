import { getPool, type ConnectionOptions, type ExecOptions, type ExecResult } from "../transport";

/** A router to run commands on: the device layer's only way to reach one. */
export interface RouterShell {
  /** `user@host:port`, for messages. */
  readonly router: string;
  run(command: string, options: ExecOptions): Promise<ExecResult>;
}

/** Commands over the process-wide SSH pool (one connection per router, shared). */
export function routerShell(options: ConnectionOptions): RouterShell {
  return {
    router: options.router,
    run: (command, execOptions) => getPool().exec(options, command, execOptions),
  };
}
