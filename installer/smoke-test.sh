#!/usr/bin/env bash
# Smoke-test the one-folder bundle (default dist/territory-desktop) the way a planner's machine runs it:
# an empty environment (env -i: no virtualenv, no PYTHONPATH, no PATH, so no Python), offscreen Qt.
#
#   installer/smoke-test.sh [BUNDLE_DIR]
#   SMOKE_ROOT=/tmp/debroot installer/smoke-test.sh   # the same inside a chroot (installer/debian-root-test.sh),
#                                                     # with the bundle mounted at ROOT/opt/territory-desktop
#
# Checks: every shared library of the Qt platform plugins resolves (inside the bundle or from the
# system); `--version` prints pyproject's version; the headless demo and `info` run; a `screenshot`
# paints the main window with the map; an older project (schema 1) is migrated on open and a project
# from a newer release is refused with a clear message. Prints the bundle size and the start-up time to
# the first painted map (wall clock of `screenshot`: process start to PNG written). Exit 0 = all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=${1:-dist/territory-desktop}
ROOT=${SMOKE_ROOT:-}
if [ -n "$ROOT" ]; then BUNDLE="$ROOT/opt/territory-desktop"; B_IN=/opt/territory-desktop; else B_IN="$PWD/$BUNDLE"; fi
[ -x "$BUNDLE/territory-desktop" ] || { echo "error: no bundle at $BUNDLE (run: make bundle)" >&2; exit 1; }
if [ -n "$ROOT" ]; then WORK=$(mktemp -d -p "$ROOT/tmp"); else WORK=$(mktemp -d); fi
trap 'rm -rf "$WORK"' EXIT
IN=${WORK#"$ROOT"}  # the scratch folder as the app sees it (inside the chroot with SMOKE_ROOT)
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -1)
fails=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; fails=$((fails + 1)); }
# the app in an empty environment: only a scratch HOME (settings, recent files) and offscreen Qt
run_in() { if [ -n "$ROOT" ]; then chroot "$ROOT" "$@"; else "$@"; fi; }
app() { run_in /usr/bin/env -i HOME="$IN/home" QT_QPA_PLATFORM=offscreen "$B_IN/territory-desktop" "$@"; }
# "FILE needs LIB" for every library of the bundle (or of the given files) that ldd cannot resolve
unresolved() {
  run_in /bin/sh -c '[ $# -gt 0 ] || set -- "$0"; find "$@" -name "*.so*" -type f -print0 | xargs -0 -n 50 env LD_LIBRARY_PATH="$0" ldd 2>/dev/null' \
    "$B_IN/_internal" "$@" | awk '/^[^\t]/ {file = $1} /not found/ {print file " needs " $1}' | sort -u
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
schema() { sqlite3 "$1" "SELECT value FROM td_meta WHERE key = 'schema_version'"; }
mkdir -p "$WORK/home"

# 1. the platform plugins' libraries: a missing one (libxcb-cursor0 ...) is the classic first-launch failure
PLATFORMS="$B_IN/_internal/PySide6/Qt/plugins/platforms"
missing=$(unresolved "$PLATFORMS/libqxcb.so" "$PLATFORMS/libqoffscreen.so" | grep -E "libq(xcb|offscreen)" || true)
[ -z "$missing" ] && pass "Qt xcb and offscreen platform plugins: every library resolves" \
                  || fail "unresolved: $(echo "$missing" | head -5 | tr '\n' ';')"
# ... and no library in the bundle needs one that was left out (the spec's DROP list) or is not on this system
all=$(unresolved)
[ -z "$all" ] && pass "all $(find "$BUNDLE/_internal" -name '*.so*' -type f | wc -l) shared libraries resolve" \
              || fail "unresolved: $(echo "$all" | awk '{print $3}' | sort | uniq -c | tr '\n' ';')"

# 2. --version from the package metadata in the bundle
out=$(app --version)
[ "$out" = "territory-desktop $VERSION" ] && pass "--version: $out" || fail "--version printed '$out', want $VERSION"

# 3. the headless demo and info
t0=$(now)
app demo "$IN/demo.gpkg" > "$WORK/demo.txt" 2>&1 && pass "demo: $(tail -1 "$WORK/demo.txt") ($(since "$t0") s)" \
  || { fail "demo: $(tail -3 "$WORK/demo.txt")"; }
app info "$IN/demo.gpkg" > "$WORK/info.txt" 2>&1 && grep -q "units" "$WORK/info.txt" \
  && pass "info: $(head -1 "$WORK/info.txt")" || fail "info: $(tail -3 "$WORK/info.txt")"

# the solvers' native libraries (pyvrp, OR-Tools) load: one week of visits for one rep
if app route --project "$IN/demo.gpkg" --rep R17 --start 2026-11-30 --weeks 1 --time-limit 5 --json \
     > "$WORK/route.json" 2> "$WORK/route.err" && grep -q '"days"\|"stops"\|"visits"' "$WORK/route.json"; then
  pass "route: one week for rep R17 planned ($(wc -c < "$WORK/route.json") bytes of JSON)"
else
  fail "route: $(tail -3 "$WORK/route.err")"
fi

# 4. screenshot: start-up to the first painted map
t0=$(now)
if app screenshot "$IN/demo.gpkg" --out "$IN/shot.png" --size 1600x1000 > "$WORK/shot.txt" 2>&1; then
  startup=$(since "$t0")
  bytes=$(stat -c %s "$WORK/shot.png")
  # a painted map of 3,108 counties compresses to far more than an empty window (~30 kB)
  [ "$bytes" -gt 150000 ] && pass "screenshot: 1600x1000 PNG of $((bytes / 1024)) kB in $startup s" \
    || fail "screenshot is only $bytes bytes (empty map?)"
  [ -n "${SMOKE_KEEP_SCREENSHOT:-}" ] && cp "$WORK/shot.png" "$SMOKE_KEEP_SCREENSHOT"
else
  startup=nan; fail "screenshot: $(tail -3 "$WORK/shot.txt")"
fi

# 5. update path: an older project is migrated on open, a newer one refused
cp "$WORK/demo.gpkg" "$WORK/old.gpkg"
current=$(schema "$WORK/old.gpkg")
sqlite3 "$WORK/old.gpkg" "UPDATE td_meta SET value = '1' WHERE key = 'schema_version'"
if app info "$IN/old.gpkg" > "$WORK/old.txt" 2>&1 && [ "$(schema "$WORK/old.gpkg")" = "$current" ] \
   && diff -q <(tail -n +2 "$WORK/info.txt") <(tail -n +2 "$WORK/old.txt") > /dev/null; then
  pass "schema-1 project migrated to schema $current on open, same territories as before"
else
  fail "migration: schema now $(schema "$WORK/old.gpkg"); $(tail -2 "$WORK/old.txt")"
fi
cp "$WORK/demo.gpkg" "$WORK/new.gpkg"
sqlite3 "$WORK/new.gpkg" "UPDATE td_meta SET value = '$((current + 1))' WHERE key = 'schema_version'"
set +e; app info "$IN/new.gpkg" > "$WORK/new.txt" 2>&1; code=$?; set -e
if [ "$code" = 2 ] && grep -q "newer Territory Desktop" "$WORK/new.txt" && ! grep -q Traceback "$WORK/new.txt" \
   && [ "$(schema "$WORK/new.gpkg")" = "$((current + 1))" ]; then
  pass "newer project refused (exit 2, file untouched): $(head -1 "$WORK/new.txt")"
else
  fail "newer project: exit $code; $(head -3 "$WORK/new.txt")"
fi

size=$(du -sm "$BUNDLE" | cut -f1)
files=$(find "$BUNDLE" -type f | wc -l)
echo "bundle: $BUNDLE, ${size} MB in $files files; start-up to first painted map: $startup s"
[ "$fails" = 0 ] && echo "smoke test passed" || { echo "smoke test: $fails check(s) failed"; exit 1; }
