#!/bin/sh
# Vendor Leaflet (map library of the offline field app) from the npm registry into
# territory_desktop/resources/fieldapp/vendor/leaflet/ with its licence. Run once when upgrading Leaflet;
# the vendored files are committed, so the app needs no network at run time (file://, no CDN).
set -eu
VERSION="${LEAFLET_VERSION:-1.9.4}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$HERE/territory_desktop/resources/fieldapp/vendor/leaflet"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack "leaflet@$VERSION" >/dev/null && tar xzf "leaflet-$VERSION.tgz")
rm -rf "$DEST"
mkdir -p "$DEST/images"
cp "$TMP/package/dist/leaflet.js" "$TMP/package/dist/leaflet.css" "$TMP/package/LICENSE" "$DEST/"
cp "$TMP/package/dist/images/"*.png "$DEST/images/"
echo "leaflet $VERSION" > "$DEST/VERSION"
echo "vendored leaflet $VERSION into $DEST"
