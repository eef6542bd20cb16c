#!/usr/bin/env bash
# Run the bundle's smoke test inside a minimal Debian root that has only the system libraries Qt needs
# (no Python, no X11/xcb helper libraries: the bundle brings those), as a planner's fresh machine would.
#
#   sudo installer/debian-root-test.sh [BUNDLE_DIR] [ROOT]     # defaults: dist/territory-desktop /tmp/debroot
#
# Needs root and debootstrap (apt-get install debootstrap); downloads about 60 MB of Debian packages the
# first time. The root is kept for the next run; delete ROOT to start afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=$(realpath "${1:-dist/territory-desktop}")
ROOT=${2:-/tmp/debroot}
SUITE=${DEBIAN_SUITE:-bookworm}
# what Qt's platform plugins load from the system: OpenGL/EGL (libQt6Gui), libxcb (xcb), fontconfig and a
# font (text), the Wayland client libraries (wayland); everything else is in the bundle
QT_SYSTEM_PACKAGES="libgl1 libegl1 libxcb1 libfontconfig1 fonts-dejavu-core libwayland-client0 libwayland-cursor0 libwayland-egl1"
TEST_TOOLS="sqlite3"  # the smoke test edits td_meta from outside the root; not needed by the app
[ "$(id -u)" = 0 ] || { echo "error: run as root (debootstrap, chroot, mount)" >&2; exit 1; }
[ -x "$BUNDLE/territory-desktop" ] || { echo "error: no bundle at $BUNDLE (run: make bundle)" >&2; exit 1; }
command -v sqlite3 > /dev/null || apt-get install -y -qq $TEST_TOOLS
if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  debootstrap --variant=minbase "$SUITE" "$ROOT" http://deb.debian.org/debian
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $QT_SYSTEM_PACKAGES" > /dev/null
if chroot "$ROOT" /bin/sh -c 'command -v python3 || command -v python'; then
  echo "error: the root has a Python; the test needs a root without one" >&2; exit 1
fi
mkdir -p "$ROOT/opt/territory-desktop" "$ROOT/proc"
mountpoint -q "$ROOT/opt/territory-desktop" || mount --bind "$BUNDLE" "$ROOT/opt/territory-desktop"
mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
trap 'umount "$ROOT/opt/territory-desktop" "$ROOT/proc"' EXIT
echo "Debian $(cat "$ROOT/etc/debian_version") root at $ROOT, $(chroot "$ROOT" dpkg-query -W | wc -l) packages," \
     "system packages added: $QT_SYSTEM_PACKAGES"
SMOKE_ROOT="$ROOT" bash installer/smoke-test.sh
