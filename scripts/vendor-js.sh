#!/usr/bin/env bash
# Vendors the JavaScript library of the interactive views (package
# export/view) from npm: the standalone build of vis-graph3d, at the version
# and integrity pinned in scripts/vendor-js/package-lock.json, unmodified,
# and a LICENSE with the licences of everything that build bundles.
#
# The files it writes under export/view/js are committed and embedded in
# the binary, so building landscape and viewing a page need neither npm nor
# a network. To move to another version: change it in
# scripts/vendor-js/package.json, run `npm install --package-lock-only` there,
# run this script, and check the bundled packages named below still match.
set -euo pipefail
cd "$(dirname "$0")/.."
dst=export/view/js
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp scripts/vendor-js/package.json scripts/vendor-js/package-lock.json "$work/"
# npm ci installs exactly the lock file's versions and checks each
# tarball's sha512 against it.
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
nm=$work/node_modules
version() { node -p "require('$nm/$1/package.json').version"; }

min=$nm/vis-graph3d/standalone/umd/vis-graph3d.min.js
if grep -qi '</script' "$min"; then
  echo "vendor-js: $min contains </script and cannot be inlined in a page" >&2
  exit 1
fi
mkdir -p "$dst"
cp "$min" "$dst/vis-graph3d.min.js"

# The standalone build bundles vis-data, vis-util, Hammer.js (the @egjs
# fork), component-emitter, uuid's v4 and core-js's polyfills; the minified
# file keeps only vis-graph3d's own banner, so their notices go here.
{
  cat <<EOF
vis-graph3d.min.js is the standalone UMD build of vis-graph3d $(version vis-graph3d)
(https://www.npmjs.com/package/vis-graph3d), copied unmodified by
scripts/vendor-js.sh. It bundles the packages below. vis-graph3d, vis-data
and vis-util are dual licensed under the Apache License 2.0 and the MIT
License; they are used here under the MIT License.

EOF
  sed -n '1,/\*\//p' "$min"
  for pkg in vis-graph3d vis-data vis-util @egjs/hammerjs component-emitter uuid core-js-pure; do
    printf '\n==== %s %s ====\n\n' "$pkg" "$(version "$pkg")"
    case $pkg in
      vis-graph3d) # its package has no licence file: the banner's holders, MIT's text
        printf 'The MIT License (MIT)\n\n'
        grep -o '@copyright .*' "$min" | sed 's/^@copyright /Copyright /'
        tail -n +5 "$nm/vis-util/LICENSE-MIT" ;;
      vis-data | vis-util) cat "$nm/$pkg/LICENSE-MIT" ;;
      *) cat "$(ls "$nm/$pkg"/LICEN[CS]E* "$nm/$pkg"/licen[cs]e* 2>/dev/null | head -1)" ;;
    esac
  done
  printf '\n==== levenshteinDistance in vis-graph3d ====\n\n'
  sed -n '/Copyright (c) 2011 Andrei Mackenzie/,/IN THE SOFTWARE\./p' "$nm/vis-graph3d/standalone/umd/vis-graph3d.js" | sed 's/^[[:space:]]*\*[[:space:]]\{0,2\}//'
} >"$dst/LICENSE"
ls -l "$dst"
