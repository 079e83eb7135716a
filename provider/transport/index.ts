export { shellQuote, shellCommand, UnquotableValueError } from "./quote";
export {
  connectionOptionsSchema,
  parseConnectionOptions,
  redactSecrets,
  routerLabel,
  InvalidConnectionOptionsError,
  Secret,
  type ConnectionIssue,
  type ConnectionIssueCode,
  type ConnectionOptions,
  type ConnectionOptionsInput,
} from "./options";
export {
  hostKeyFingerprint,
  normalizeFingerprint,
  pinnedFingerprint,
  FINGERPRINT_PATTERN,
  type HostKeyPolicy,
  type SeenHostKey,
} from "./hostkey";
export {
  TransportError,
  HostKeyMismatchError,
  AuthenticationError,
  ConnectTimeoutError,
  ExecTimeoutError,
  ConnectionLostError,
  CommandFailedError,
} from "./errors";
export { TransportCounters, type CounterValues } from "./counters";
export type { ExecResult } from "./connection";
export { ConnectionPool, getPool, sameAccess, type ExecOptions, type HostKeyInfo } from "./pool";
