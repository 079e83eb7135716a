/**
 * A mini Pulumi engine: runs a Pulumi TypeScript program without the Pulumi CLI and applies it through the real
 * dynamic-provider plugin of @pulumi/pulumi, with preview, up, refresh and destroy and a JSON state file.
 */
export {
  MiniEngine,
  NOT_DRIVEN,
  type EngineEvent,
  type MiniEngineOptions,
  type OperationKind,
  type OperationSummary,
  type Program,
  type ResourceResult,
  type StepOp,
} from "./engine";
export {
  DynamicProviderPlugin,
  PluginError,
  type CheckFailure,
  type CheckResult,
  type CreateResult,
  type DiffResult,
  type PluginLogLine,
  type PluginStartOptions,
  type ReadResult,
} from "./plugin";
export { programFromModule, type ProgramModuleOptions } from "./program";
export { IncorrectPassphraseError } from "./secrets";
export type { ResourceState, StackState } from "./state";
export { toDisplay, type DisplayOptions, type PropertyMap, type PropertyValue } from "./values";
