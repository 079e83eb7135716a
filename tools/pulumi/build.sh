#!/bin/sh
# Builds the Pulumi CLI pinned in go.mod into "$1" (a directory), with the version linked in the way
# Pulumi's release builds do it. Called by tools/pulumi/index.cjs, which picks a cache directory keyed by a
# hash of go.mod, go.sum, this script and the launchers, and copies the launchers in beside the binary.
set -eu
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's#^[[:space:]]*github.com/pulumi/pulumi/pkg/v3 \(v[0-9][^ ]*\).*#\1#p' "$here/go.mod")
[ -n "$version" ] || { echo "build.sh: no github.com/pulumi/pulumi/pkg/v3 requirement in go.mod" >&2; exit 1; }
mkdir -p "$out"
cd "$here"
# -mod=mod: go.sum may be completed (never the pins changed); -buildvcs=false: the binary must not depend on
# this repository's git state. No cgo, -trimpath and these tags are what Pulumi's release builds use.
CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" \
  go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
  -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
