import type * as pulumi from "@pulumi/pulumi";
import type { ResourceKind } from "../provider";

/**
 * The provider Pulumi serializes into every resource's state: a few lines that load the installed
 * implementation, not the implementation itself. State stays small and stable across library
 * versions, refresh and destroy run the installed code (not code frozen into state), and nothing
 * live (sockets, pools) is ever captured. The module specifier resolves from the program's
 * directory, where the dynamic-provider plugin runs.
 */
function makeShim(kind: ResourceKind): pulumi.dynamic.ResourceProvider {
  const impl = () => require("pulumi-openwrt-offload/provider").providers[kind];
  return {
    check: (olds, news) => impl().check(olds, news),
    diff: (id, olds, news) => impl().diff(id, olds, news),
    create: (inputs) => impl().create(inputs),
    read: (id, props) => impl().read(id, props),
    update: (id, olds, news) => impl().update(id, olds, news),
    delete: (id, props) => impl().delete(id, props),
  };
}

// One object per kind: @pulumi/pulumi caches the serialized text per provider object.
const shims = new Map<ResourceKind, pulumi.dynamic.ResourceProvider>();

export function shim(kind: ResourceKind): pulumi.dynamic.ResourceProvider {
  let provider = shims.get(kind);
  if (!provider) shims.set(kind, (provider = makeShim(kind)));
  return provider;
}
