#!/usr/bin/env bash
# The API reference: builds the HTML site (docs/api/, not committed) and the Markdown reference
# (docs/reference/, committed and shipped in the package), both with every typedoc warning an
# error, then fails when docs/reference differs from what is committed: run `npm run docs` and
# commit it after changing a doc comment or the public API.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s docs
stale=$(git status --porcelain -- docs/reference)
if [ -n "$stale" ]; then
  echo "docs/reference is not what the sources generate (run npm run docs and commit it):" >&2
  echo "$stale" >&2
  git --no-pager diff --stat -- docs/reference >&2
  exit 1
fi
echo "check:docs: the API reference builds with no warning, and docs/reference is current"
