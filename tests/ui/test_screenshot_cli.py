"""``territory-desktop screenshot``: a PNG of the main window from a saved project; clear errors."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from territory_desktop.cli import main
from territory_desktop.services.project import save_project


@pytest.fixture
def saved(grid8, tmp_path):
    path = tmp_path / "grid8.gpkg"
    save_project(grid8, path)
    return path


def test_screenshot_writes_png_of_requested_size(saved, tmp_path, qapp, capsys):
    out = tmp_path / "shot.png"
    assert main(["screenshot", str(saved), "--out", str(out), "--size", "900x600", "--layers", "labels"]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (900, 600)
    assert "wrote" in capsys.readouterr().out
    # the map shows territory colours somewhere (T1 blue #1f77b4 blended at 85% over the background)
    expected = [round(0.85 * a + 0.15 * b) for a, b in ((0x1f, 0xf4), (0x77, 0xf6), (0xb4, 0xf8))]
    pixels = [image.pixelColor(x, y) for x in range(0, 900, 5) for y in range(0, 600, 5)]
    hits = [p for p in pixels if max(abs(p.red() - expected[0]), abs(p.green() - expected[1]),
                                     abs(p.blue() - expected[2])) <= 4]
    assert len(hits) > 50


@pytest.mark.parametrize("args, message", [
    (["--size", "12x12"], "outside"),
    (["--size", "big"], "WIDTHxHEIGHT"),
    (["--layers", "nonsense"], "unknown layer 'nonsense'"),
])
def test_screenshot_bad_arguments_exit_2(saved, tmp_path, qapp, capsys, args, message):
    assert main(["screenshot", str(saved), "--out", str(tmp_path / "x.png"), *args]) == 2
    assert message in capsys.readouterr().err


def test_screenshot_of_broken_file_is_a_clear_error(tmp_path, qapp, capsys):
    broken = tmp_path / "broken.gpkg"
    broken.write_text("not a geopackage")
    assert main(["screenshot", str(broken), "--out", str(tmp_path / "x.png")]) == 2
    assert "broken.gpkg" in capsys.readouterr().err


def test_gui_and_screenshot_commands_are_registered(capsys):
    from territory_desktop.cli import build_parser

    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["screenshot", "--help"])
    assert "--size" in capsys.readouterr().out
    args = parser.parse_args(["gui", "x.gpkg"])
    assert args.project == "x.gpkg" and callable(args.func)
