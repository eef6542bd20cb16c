"""Render the application icon (resources/icons/territory-desktop.svg) at every size the installers need:

- ``app/territory-desktop-N.png`` for N in 16..1024 (Linux desktop entries use 48-512, the window icon 256),
- ``app/territory-desktop.ico`` with 16, 24, 32, 48, 64, 128 and 256 px images (Windows: exe, Start menu,
  the .gpkg file association),
- ``app/territory-desktop.icns`` with 16-1024 px (macOS .app and .dmg); on a Mac
  ``iconutil -c icns`` on an ``.iconset`` folder of the same PNGs gives the same file.

Run ``python installer/make-icons.py`` after changing the SVG (Qt renders the SVG, Pillow writes .ico/.icns).
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "territory_desktop" / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(renderer: QSvgRenderer, size: int, out: Path) -> None:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out)):
        sys.exit(f"error: could not write {out}")


def main() -> int:
    QGuiApplication([])
    renderer = QSvgRenderer(str(ICONS / "territory-desktop.svg"))
    if not renderer.isValid():
        sys.exit("error: territory-desktop.svg is not a valid SVG")
    out = ICONS / "app"
    out.mkdir(exist_ok=True)
    for size in PNG_SIZES:
        render(renderer, size, out / f"territory-desktop-{size}.png")
    big = Image.open(out / "territory-desktop-1024.png")
    # each .ico entry is its own Qt rendering (append_images), not a downscaled 256 px image
    ico_images = [Image.open(out / f"territory-desktop-{s}.png") for s in ICO_SIZES]
    ico_images[-1].save(out / "territory-desktop.ico", sizes=[(s, s) for s in ICO_SIZES],
                        append_images=ico_images[:-1])
    big.save(out / "territory-desktop.icns",
             append_images=[Image.open(out / f"territory-desktop-{s}.png") for s in (16, 32, 64, 128, 256, 512)])
    print(f"wrote {len(PNG_SIZES)} PNGs, territory-desktop.ico and territory-desktop.icns in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
