#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the app needs - when we are root on Debian and something is missing:
# - Qt offscreen and fonts: libegl1 libgl1 libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6 fonts-dejavu-core
# - Qt 6's xcb platform plugin (a real X display): every library that `ldd` lists for PySide6's
#   plugins/platforms/libqxcb.so, lib/libQt6XcbQpa.so.6 and plugins/xcbglintegrations/*.so, mapped to
#   Debian 12 packages with `dpkg -S`; without libxcb-cursor0 (Qt >= 6.5) the first launch aborts with
#   "Could not load the Qt platform plugin 'xcb'". libxcb-xinerama0 is for multi-screen setups.
# - GDAL's command-line tools (ogrinfo), its Python bindings and GeoPackage validator (python3-gdal, for the
#   GIS interoperability tests) and poppler (pdftotext/pdftoppm) for the print tests;
#   xvfb and xauth so the test suite can start the real window on a virtual X display (xvfb-run);
#   chromium + chromium-driver for the headless tests of the offline field app (driven by Selenium).
set -euo pipefail
QT="libegl1 libgl1 libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6 fonts-dejavu-core"
XCB="libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 \
libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0"
TOOLS="gdal-bin python3-gdal poppler-utils xvfb xauth chromium chromium-driver"
PKGS="$QT $XCB $TOOLS"
[ -f /etc/debian_version ] || { echo "not Debian/Ubuntu: install the equivalents of: $PKGS" >&2; exit 0; }
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"; done)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "warning: missing system packages (run as root to install): $missing" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# a name this release does not have (older Ubuntu spells some xcb packages differently) is reported, not fatal
available=$(for p in $missing; do apt-cache show "$p" >/dev/null 2>&1 && echo "$p" || echo "warning: no package $p here" >&2; done)
[ -z "$available" ] || apt-get install -y -qq --no-install-recommends $available
