#!/usr/bin/env bash
# The interactive views (package export/view) in a real browser. Installs
# Debian's headless Chromium if none is found (apt-get, as root), runs the
# browser test with the browser required (a screenshot compared with
# export/view/testdata/page.png at a tolerance, a drag that turns the 3D
# view, a hover that reads values out), then checks that every page given
# as an argument, such as the demo's index.html, draws all its views.
#
#   scripts/browser-test.sh [PAGE.html ...]
#
# LANDSCAPE_CHROMIUM chooses the browser. With LANDSCAPE_ARTIFACTS=DIR the
# screenshot of a failed comparison is kept under DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

find_chromium() {
  if [ -n "${LANDSCAPE_CHROMIUM:-}" ]; then
    echo "$LANDSCAPE_CHROMIUM"
    return
  fi
  for name in chromium-headless-shell chromium chromium-browser google-chrome-stable google-chrome headless_shell; do
    if command -v "$name" >/dev/null; then
      command -v "$name"
      return
    fi
  done
  return 1
}

if ! chromium=$(find_chromium); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "browser-test: installing chromium-headless-shell"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-headless-shell fonts-dejavu-core >/dev/null
    chromium=$(find_chromium)
  else
    echo "browser-test: no Chromium; install chromium-headless-shell (Debian) or set LANDSCAPE_CHROMIUM" >&2
    exit 1
  fi
fi
echo "browser-test: $("$chromium" --version 2>/dev/null | tail -1) ($chromium)"

export LANDSCAPE_CHROMIUM=$chromium LANDSCAPE_REQUIRE_BROWSER=1 CGO_ENABLED=0
artifacts=()
if [ -n "${LANDSCAPE_ARTIFACTS:-}" ]; then
  mkdir -p "$LANDSCAPE_ARTIFACTS"
  artifacts=(-artifacts -outputdir "$(realpath "$LANDSCAPE_ARTIFACTS")")
fi
go test -count=1 -run '^TestBrowser$' -v "${artifacts[@]}" ./export/view/

# Each page: the view's script ran and marked every panel drawn.
for page in "$@"; do
  profile=$(mktemp -d)
  dom=$("$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --user-data-dir="$profile" \
    --virtual-time-budget=10000 --dump-dom "file://$(realpath "$page")" 2>/dev/null)
  rm -rf "$profile"
  ready=$(grep -o 'data-lv-ready="[0-9]*"' <<<"$dom" | grep -o '[0-9]*' || true)
  ok=$(grep -o 'data-lv-status="ok"' <<<"$dom" | wc -l)
  if [ -z "$ready" ] || [ "$ready" = 0 ] || [ "$ok" != "$ready" ]; then
    echo "browser-test: $page: ${ok} of ${ready:-no} views drawn:" >&2
    grep -o 'data-lv-status="[^"]*"' <<<"$dom" >&2 || true
    exit 1
  fi
  echo "browser-test: $page: all $ready views drawn"
done
