"""Tile basemap: downloads through the disk cache, draws warped tiles, stays quiet offline."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QUrl
from PySide6.QtGui import QColor, QImage

from territory_desktop.ui.canvas import MapCanvas
from territory_desktop.ui.tiles import TileLayer, tile_bounds, tile_xy


def test_tile_math_round_trips():
    for z in (0, 5, 12):
        x, y = tile_xy(-98.5, 39.1, z)
        w, s, e, n = tile_bounds(z, x, y)
        assert w <= -98.5 < e and s <= 39.1 < n


@pytest.fixture
def canvas(qtbot, grid8):
    c = MapCanvas(grid8)
    qtbot.addWidget(c)
    c.resize(400, 300)
    c.show()
    return c


def test_tiles_are_fetched_cached_and_drawn(canvas, qtbot, tmp_path):
    source = tmp_path / "server"
    for layer in canvas.renderer.layers:
        layer.visible = layer.key == "basemap"
    layer = TileLayer(canvas.scene.crs, url=QUrl.fromLocalFile(str(source)).toString() + "/{z}/{x}/{y}.png",
                      cache_dir=tmp_path / "cache", on_tile=canvas.update)
    canvas.renderer.extras["basemap"] = layer
    canvas.grab()  # asks for the visible tiles
    wanted = set(layer.pending) | set(layer.failed)
    assert wanted
    for z, x, y in wanted:  # now "serve" magenta tiles
        (source / str(z) / str(x)).mkdir(parents=True, exist_ok=True)
        image = QImage(256, 256, QImage.Format.Format_RGB32)
        image.fill(QColor("#ff00ff"))
        image.save(str(source / str(z) / str(x) / f"{y}.png"))
    layer.failed.clear()
    layer.pending.clear()
    canvas.grab()
    qtbot.waitUntil(lambda: all(k in layer.images for k in wanted), timeout=5000)
    assert all((tmp_path / "cache" / str(z) / str(x) / f"{y}.png").exists() for z, x, y in wanted)
    image = canvas.grab().toImage()
    c = image.pixelColor(int(200 * image.devicePixelRatio()), int(150 * image.devicePixelRatio()))
    assert (c.red(), c.green(), c.blue()) == (255, 0, 255)


def test_offline_basemap_fails_quietly(canvas, qtbot, tmp_path):
    layer = TileLayer(canvas.scene.crs, url="http://127.0.0.1:9/{z}/{x}/{y}.png", cache_dir=tmp_path / "c")
    canvas.renderer.extras["basemap"] = layer
    canvas.renderer.layer("basemap").visible = True
    canvas.grab()
    qtbot.waitUntil(lambda: not layer.pending, timeout=10000)
    assert layer.failed and not layer.images
    canvas.grab()  # no retry, no error
    assert not layer.pending
    assert canvas.to_map(QPointF(0, 0)) is not None
