"""Optional XYZ tile basemap (e.g. OpenStreetMap), off by default, with a disk cache.

Tiles (Web Mercator) are fetched asynchronously with QNetworkAccessManager, stored under the cache
directory as ``z/x/y.png`` and drawn warped onto the display CRS (each tile mapped onto the quad of its
projected corners). Without a network the layer stays empty and silent: failed tiles are not retried in
the session, nothing is raised and no dialog is shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pyproj
from PySide6.QtCore import QObject, QPointF, QStandardPaths, QUrl
from PySide6.QtGui import QColor, QImage, QPainter, QPolygonF, QTransform
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from .renderer import RenderView

OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
ATTRIBUTION = "© OpenStreetMap contributors"
MAX_TILES = 48


def default_cache_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation) or str(Path.home() / ".cache")
    return Path(base) / "territory-desktop" / "tiles"


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of XYZ tile (z, x, y)."""
    n = 2 ** z

    def lat(yy: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * yy / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    lat = max(min(lat, 85.0511), -85.0511)
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


class TileLayer(QObject):
    """Basemap tiles for the canvas; ``on_tile(callback)`` is called when a tile arrives (repaint)."""

    def __init__(self, crs: str, url: str = OSM, cache_dir: Path | None = None,
                 on_tile: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.url = url
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.on_tile = on_tile
        self.to_lonlat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        self.from_lonlat = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self.images: dict[tuple[int, int, int], QImage] = {}
        self.failed: set[tuple[int, int, int]] = set()
        self.pending: set[tuple[int, int, int]] = set()
        self.network: QNetworkAccessManager | None = None

    def zoom_for(self, px: float, lat: float) -> int:
        """XYZ zoom whose tile pixels are closest to ``px`` metres per screen pixel at latitude ``lat``."""
        metres = 156543.03392 * math.cos(math.radians(lat))
        return int(min(18, max(0, round(math.log2(max(metres / max(px, 1e-6), 1e-9))))))

    def visible_tiles(self, view: RenderView) -> list[tuple[int, int, int]]:
        r = view.visible
        xs = [r.left(), r.center().x(), r.right()]
        ys = [r.top(), r.center().y(), r.bottom()]
        pts = [(x, -y) for x in xs for y in ys]
        lon, lat = self.to_lonlat.transform([p[0] for p in pts], [p[1] for p in pts])
        z = self.zoom_for(view.px, float(lat[4]))
        while True:
            x0, y0 = tile_xy(min(lon), max(lat), z)
            x1, y1 = tile_xy(max(lon), min(lat), z)
            count = (x1 - x0 + 1) * (y1 - y0 + 1)
            if count <= MAX_TILES or z == 0:
                break
            z -= 1
        return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]

    def image(self, key: tuple[int, int, int]) -> QImage | None:
        """The tile image from memory or the disk cache; starts a download if neither has it."""
        if key in self.images:
            return self.images[key]
        path = self.cache_dir / f"{key[0]}/{key[1]}/{key[2]}.png"
        if path.exists():
            image = QImage(str(path))
            if not image.isNull():
                self.images[key] = image
                return image
        if key not in self.failed and key not in self.pending:
            self._fetch(key)
        return None

    def _fetch(self, key: tuple[int, int, int]) -> None:
        if self.network is None:
            self.network = QNetworkAccessManager(self)
        z, x, y = key
        request = QNetworkRequest(QUrl(self.url.format(z=z, x=x, y=y)))
        request.setRawHeader(b"User-Agent", b"TerritoryDesktop/0.1 (desktop GIS)")
        request.setTransferTimeout(8000)
        reply = self.network.get(request)
        self.pending.add(key)
        reply.finished.connect(lambda r=reply, k=key: self._arrived(r, k))

    def _arrived(self, reply: QNetworkReply, key: tuple[int, int, int]) -> None:
        self.pending.discard(key)
        data = bytes(reply.readAll()) if reply.error() == QNetworkReply.NetworkError.NoError else b""
        reply.deleteLater()
        image = QImage.fromData(data) if data else QImage()
        if image.isNull():
            self.failed.add(key)  # offline or refused: stay quiet, do not retry this session
            return
        path = self.cache_dir / f"{key[0]}/{key[1]}/{key[2]}.png"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError:
            pass  # a read-only cache only costs re-downloads
        self.images[key] = image
        if self.on_tile is not None:
            self.on_tile()

    def paint(self, painter: QPainter, view: RenderView) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        current = painter.transform()
        for key in self.visible_tiles(view):
            image = self.image(key)
            if image is None:
                continue
            w, s, e, n = tile_bounds(*key)
            xs, ys = self.from_lonlat.transform([w, e, e, w], [n, n, s, s])
            quad = QPolygonF([QPointF(x, -y) for x, y in zip(xs, ys, strict=True)])
            iw, ih = image.width(), image.height()
            source = QPolygonF([QPointF(0, 0), QPointF(iw, 0), QPointF(iw, ih), QPointF(0, ih)])
            t = QTransform()
            if QTransform.quadToQuad(source, quad, t):
                painter.setTransform(t * current)
                painter.drawImage(QPointF(0, 0), image)
        painter.setTransform(current)

    def paint_legend(self, painter: QPainter, view: RenderView) -> None:
        """The tile attribution at the lower right (required by the OpenStreetMap tile policy)."""
        if not self.images:
            return
        painter.setTransform(view.base)
        fm = painter.fontMetrics()
        text = ATTRIBUTION if self.url == OSM else "Basemap tiles"
        w = fm.horizontalAdvance(text) + 8
        box = view.target.adjusted(view.target.width() - w - 2, view.target.height() - fm.height() - 4, -2, -2)
        painter.fillRect(box, QColor(255, 255, 255, 200))
        painter.setPen(QColor("#333333"))
        painter.drawText(QPointF(box.left() + 4, box.top() + 1 + fm.ascent()), text)
