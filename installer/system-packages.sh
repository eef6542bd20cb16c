#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Qt needs offscreen, fonts, GDAL's command-line tools (ogrinfo) and
# GDAL's Python bindings and GeoPackage validator (python3-gdal, for the GIS interoperability tests), and
# poppler (pdftotext/pdftoppm, for the print tests), chromium + chromium-driver (headless tests of the
# offline field app, driven by Selenium) - when we are root on Debian and something is missing.
set -euo pipefail
PKGS="libegl1 libgl1 libglib2.0-0 libdbus-1-3 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 fonts-dejavu-core gdal-bin python3-gdal poppler-utils chromium chromium-driver"
[ -f /etc/debian_version ] || { echo "not Debian/Ubuntu: install the equivalents of: $PKGS" >&2; exit 0; }
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"; done)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "warning: missing system packages (run as root to install): $missing" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
