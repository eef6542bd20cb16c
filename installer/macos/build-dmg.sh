#!/usr/bin/env bash
# Build, sign, notarise and staple "Territory Desktop.app" and its .dmg, on macOS, from the repository root:
#
#   installer/macos/build-dmg.sh                 # unsigned .app + .dmg (for testing on this Mac)
#   SIGN_ID="Developer ID Application: Example Corp (TEAMID1234)" NOTARY_PROFILE=territory \
#     installer/macos/build-dmg.sh               # signed, notarised and stapled (for distribution)
#
# NOTARY_PROFILE is a keychain profile made once with
#   xcrun notarytool store-credentials territory --apple-id you@example.com --team-id TEAMID1234
#     --password <app-specific password>
# Needs: Xcode command-line tools (codesign, xcrun notarytool, stapler, hdiutil), the venv with the
# `bundle` extra (pip install -e ".[bundle]"). Writes dist/TerritoryDesktop-VERSION.dmg.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname)" = Darwin ] || { echo "error: build-dmg.sh runs on macOS (hdiutil, codesign)" >&2; exit 1; }
PY=${PYTHON:-.venv/bin/python}
VERSION=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
APP="dist/Territory Desktop.app"
DMG="dist/TerritoryDesktop-$VERSION.dmg"
ENTITLEMENTS=installer/macos/entitlements.plist

# 1. the .app (PyInstaller BUNDLE step of the spec: icon, Info.plist with the .gpkg document type)
"$PY" -m PyInstaller --noconfirm --distpath dist --workpath build installer/territory-desktop.spec
"$APP/Contents/MacOS/territory-desktop" --version

# 2. sign every Mach-O inside out (libraries and Qt plugins first, then the app) with the hardened runtime
if [ -n "${SIGN_ID:-}" ]; then
  find "$APP/Contents" -type f \( -name '*.dylib' -o -name '*.so' -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' f; do
      if file "$f" | grep -q 'Mach-O'; then
        codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" --sign "$SIGN_ID" "$f"
      fi
    done
  codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" --sign "$SIGN_ID" "$APP"
  codesign --verify --deep --strict --verbose=2 "$APP"
fi

# 3. the disk image: the app and a link to /Applications to drag it onto
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "Territory Desktop $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"

# 4. sign the image, send it to Apple's notary service, wait, and staple the ticket to the image
if [ -n "${SIGN_ID:-}" ]; then
  codesign --force --timestamp --sign "$SIGN_ID" "$DMG"
  if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
    xcrun stapler validate "$DMG"
    spctl --assess --type open --context context:primary-signature --verbose=2 "$DMG"
  else
    echo "warning: NOTARY_PROFILE not set: the image is signed but not notarised (Gatekeeper will warn)" >&2
  fi
fi
echo "wrote $DMG"
