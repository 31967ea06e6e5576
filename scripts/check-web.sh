#!/usr/bin/env bash
# Checks the web front-end (web/static/*.js) without a build or a network:
#   1. every module parses (node --check),
#   2. every relative import ("./x.js") names a file of web/static/ (served at /assets/x.js;
#      subdirectories are not served),
#   3. TypeScript type-checks the modules (// @ts-check, web/jsconfig.json), using the compiler
#      pinned in web/package-lock.json: run `npm ci` in web/ once beforehand.
# Exits non-zero on the first failing step.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
static="$root/web/static"

echo "== node --check"
for f in "$static"/*.js; do
  node --check "$f"
done

echo "== imports"
missing=0
for f in "$static"/*.js; do
  while IFS= read -r target; do
    if [[ "$target" == */* ]] || [[ ! -f "$static/$target" ]]; then
      echo "$(basename "$f"): import './$target' does not name a file of web/static/" >&2
      missing=1
    fi
  done < <(grep -oE "from '\./[^']+'" "$f" | sed -E "s/^from '\.\/(.+)'$/\1/")
done
[[ $missing -eq 0 ]]

echo "== tsc"
cd "$root/web"
if [[ ! -x node_modules/.bin/tsc ]]; then
  echo "node_modules/.bin/tsc is missing: run 'npm ci' in web/ first" >&2
  exit 1
fi
npx --no-install tsc -p jsconfig.json
echo "web front-end: OK"
