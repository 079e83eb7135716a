export { providers, type ResourceKind } from "./resources";
