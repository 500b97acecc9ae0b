#!/usr/bin/env bash
# Builds the real test peers — etcd, kube-apiserver, the Pulumi CLI, its Node.js language
# host and the Kubernetes resource provider — from their Go modules, or reuses them.
#
#   scripts/test-peers/build-peers.sh            # build what is missing or stale, print versions
#   scripts/test-peers/build-peers.sh etcd pulumi  # only these
#
# Each peer is built from its wrapper module in this directory (go.mod/go.sum committed)
# into ${CITADEL_PEERS_DIR:-~/.cache/citadel/test-peers}/<name>-<version>/bin/, with a
# stamp naming the recipe (wrapper files, ldflags, Go version). A peer whose stamp matches
# is reused; Go's module and build caches live beside the binaries, so a CI machine that
# keeps that directory rebuilds nothing. Binaries never go into the repository.
# What is built is listed in peers.json (read by packages/test-utils too).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers_dir="${CITADEL_PEERS_DIR:-$HOME/.cache/citadel/test-peers}"
mkdir -p "$peers_dir"

export GOMODCACHE="$peers_dir/go/mod"
export GOCACHE="$peers_dir/go/build"
# The machine's own Go (1.26.x); never fetch another toolchain behind the build's back.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="-p=${CITADEL_PEERS_GO_PARALLEL:-2} -mod=readonly -buildvcs=false -trimpath"
# Static binaries, as Kubernetes and etcd release them; no C compiler needed.
export CGO_ENABLED=0

if ! command -v go >/dev/null; then
  echo "build-peers: no Go toolchain on PATH; the peers are built with go build (Go ≥ 1.26)" >&2
  exit 1
fi

# One tab-separated line per peer: name, wrapper, module, version, package, binary,
# ldflags, display version, preparation step ("-" for none).
peer_table="$(node -e '
  const { peers } = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  for (const p of peers) {
    const fields = [p.name, p.wrapper, p.module, p.version, p.package, p.binary, p.ldflags];
    console.log([...fields, p.displayVersion ?? p.version, p.prepare ?? "-"].join("\t"));
  }
' "$here/peers.json")"

wanted=("$@")
is_wanted() {
  [ "${#wanted[@]}" -eq 0 ] && return 0
  local name
  for name in "${wanted[@]}"; do [ "$name" = "$1" ] && return 0; done
  return 1
}

# One build at a time per cache directory (two CI jobs or two shells on one machine).
exec 9>"$peers_dir/.lock"
if command -v flock >/dev/null; then flock 9; fi

go_version="$(go env GOVERSION)"

# The Kubernetes provider embeds its schema, which its repository generates before building
# (`go generate`: schema.json → schema-embed.json stamped with the release version). The
# module ships schema.json, not the generated files, so its main package is built from a
# copy, next to a copy of the wrapper's go.mod, under the cache directory; the generation
# itself is the same JSON rewrite. Prints the directory to build in.
prepare_embedded_schema() {
  local wrapper_dir=$1 package=$2 version=$3 src=$4 upstream
  upstream="$(cd "$wrapper_dir" && go list -e -f '{{.Dir}}' "$package")"
  rm -rf "$src" && mkdir -p "$src"
  cp "$wrapper_dir/go.mod" "$wrapper_dir/go.sum" "$upstream/main.go" "$src/"
  chmod u+w "$src"/*
  node -e '
    const fs = require("node:fs");
    const [from, to, version] = process.argv.slice(1);
    const read = (file) => JSON.parse(fs.readFileSync(`${from}/${file}`, "utf8"));
    fs.writeFileSync(`${to}/schema-embed.json`, JSON.stringify({ ...read("schema.json"), version }));
    fs.writeFileSync(`${to}/terraform-mapping-embed.json`, JSON.stringify(read("terraform-mapping.json")));
  ' "$upstream" "$src" "$version"
  echo "$src"
}

summary=()
staging=""
# A failed build leaves no half-written peer directory behind.
trap 'if [ -n "$staging" ]; then rm -rf "$staging"; fi' EXIT
while IFS=$'\t' read -r name wrapper module version package binary ldflags display prepare; do
  is_wanted "$name" || continue
  wrapper_dir="$here/$wrapper"
  required="$(cd "$wrapper_dir" && go list -m -f '{{.Version}}' "$module")"
  if [ "$required" != "$version" ]; then
    echo "build-peers: $wrapper/go.mod requires $module $required but peers.json says $version" >&2
    exit 1
  fi
  recipe="$(
    {
      cat "$wrapper_dir"/go.mod "$wrapper_dir"/go.sum
      find "$wrapper_dir" -maxdepth 1 -name '*.go' -print0 | sort -z | xargs -0 -r cat
      printf '%s\n' "$package" "$ldflags" "$prepare" "$display" "$go_version" "$GOFLAGS" "$CGO_ENABLED"
    } | sha256sum | cut -c1-16
  )"
  target="$peers_dir/$name-$version"
  if [ -x "$target/bin/$binary" ] && [ "$(sed -n 's/^recipe=//p' "$target/stamp" 2>/dev/null)" = "$recipe" ]; then
    echo "build-peers: $name $version: cached ($target)"
  else
    echo "build-peers: $name $version: building $package …"
    started=$(date +%s)
    staging="$target.partial-$$"
    rm -rf "$staging" && mkdir -p "$staging/bin"
    build_dir="$wrapper_dir" build_package="$package"
    if [ "$prepare" = "embedded-schema" ]; then
      build_dir="$(prepare_embedded_schema "$wrapper_dir" "$package" "${display#v}" "$staging/src")"
      build_package="."
    fi
    (cd "$build_dir" && nice -n 10 go build -ldflags "$ldflags" -o "$staging/bin/$binary" "$build_package")
    rm -rf "$staging/src"
    seconds=$(($(date +%s) - started))
    printf 'recipe=%s\nmodule=%s %s\ngo=%s\nbuilt=%s\nbuild_seconds=%s\n' \
      "$recipe" "$module" "$version" "$go_version" "$(date -u +%FT%TZ)" "$seconds" >"$staging/stamp"
    rm -rf "$target" && mv "$staging" "$target"
    echo "build-peers: $name $version: built in ${seconds}s ($(du -h "$target/bin/$binary" | cut -f1))"
  fi
  summary+=("$name $display")
done <<<"$peer_table"

if [ "${#summary[@]}" -eq 0 ]; then
  echo "build-peers: no peer named ${wanted[*]} in peers.json" >&2
  exit 1
fi
joined="$(printf '%s, ' "${summary[@]}")"
echo "build-peers: ${joined%, }"
