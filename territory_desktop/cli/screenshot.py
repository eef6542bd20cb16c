"""``territory-desktop screenshot PROJECT.gpkg --out shot.png [--size 1600x1000]``: the main window with
a project rendered offscreen to a PNG (for docs and reviewing the look). Qt is imported lazily."""

from __future__ import annotations

import argparse
import os

from ..models import InvalidInputError
from ._common import output_file, project_file

#: image formats by suffix (Qt writes each; the format follows the suffix)
SCREENSHOT_SUFFIXES = (".png", ".jpg", ".jpeg")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "screenshot", help="render the main window with a project to a PNG or JPEG (offscreen)",
        description="Open PROJECT in the main window offscreen (no display needed) and save a PNG of the "
                    "whole window: map canvas, territory table, layers and status bar (JPEG for a .jpg name).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  territory-desktop screenshot demo.gpkg --out shot.png --size 1600x1000 "
               "--tool brush --layers heatmap,labels")
    p.add_argument("project", type=project_file, help="project file (.gpkg)")
    p.add_argument("--out", required=True, type=output_file(*SCREENSHOT_SUFFIXES),
                   help="image to write: .png, or .jpg/.jpeg for JPEG (the format follows the suffix)")
    p.add_argument("--size", default="1600x1000", help="window size WIDTHxHEIGHT in pixels (default 1600x1000)")
    p.add_argument("--layers", default="", help="comma-separated layers to switch on: choropleth, heatmap, "
                   "accounts, labels, reps, context, basemap (others keep their defaults)")
    p.add_argument("--hide", default="", help="comma-separated layers to switch off")
    p.add_argument("--tool", default="pan", choices=("pan", "select", "rect", "lasso", "brush"),
                   help="tool shown as active (default pan)")
    p.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InvalidInputError("--size", [f"'{text}' is not WIDTHxHEIGHT, e.g. 1600x1000"]) from None
    if not (200 <= w <= 8000 and 150 <= h <= 8000):
        raise InvalidInputError("--size", [f"{w}x{h} is outside 200x150 .. 8000x8000"])
    return w, h


def run(args: argparse.Namespace) -> int:
    size = _size(args.size)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..ui.app import render_screenshot

    show = [s.strip() for s in args.layers.split(",") if s.strip()]
    hide = [s.strip() for s in args.hide.split(",") if s.strip()]

    def setup(window) -> None:
        renderer = window.canvas.renderer
        known = {layer.key for layer in renderer.layers}
        bad = [k for k in show + hide if k not in known]
        if bad:
            raise InvalidInputError("--layers/--hide", [f"unknown layer '{k}' (one of {', '.join(sorted(known))})"
                                                        for k in bad])
        for key in show:
            renderer.layer(key).visible = True
        for key in hide:
            renderer.layer(key).visible = False
        window._layers_changed()
        window.layer_panel.reload()
        window.canvas.set_tool(args.tool)

    out = render_screenshot(args.project, args.out, size, setup=setup)
    print(f"wrote {out} ({size[0]}x{size[1]})")
    return 0
