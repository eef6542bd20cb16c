"""The packaging files (installer/): the PyInstaller spec, the Inno Setup script, the macOS Info.plist,
the icons, the smoke-test script, and ``--version``. Cheap checks: the bundle itself is built and
smoke-tested by ``make bundle`` (installer/smoke-test.sh)."""

from __future__ import annotations

import ast
import fnmatch
import plistlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"
SPEC = INSTALLER / "territory-desktop.spec"
ISS = INSTALLER / "windows" / "territory-desktop.iss"
PLIST = INSTALLER / "macos" / "Info.plist"
APP_ICONS = ROOT / "territory_desktop" / "resources" / "icons" / "app"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _spec_value(name: str):
    """The value of a top-level ``NAME = ...`` of the spec, evaluated with only ``re`` available."""
    for node in _spec_tree().body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return eval(compile(ast.Expression(node.value), str(SPEC), "eval"), {"re": re})
    raise AssertionError(f"{name} is not assigned in the spec")


def _spec_strings() -> set[str]:
    return {n.value for n in ast.walk(_spec_tree()) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _qt_modules_we_import() -> set[str]:
    found = set()
    for path in (ROOT / "territory_desktop").rglob("*.py"):
        found |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    return found


def _qt_modules_loaded() -> set[str]:
    """PySide6 modules in sys.modules after importing every module of the package (pyqtgraph's too)."""
    code = ("import pkgutil, importlib, sys, territory_desktop\n"
            "for m in pkgutil.walk_packages(territory_desktop.__path__, 'territory_desktop.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(' '.join(m.split('.')[1] for m in sys.modules if m.startswith('PySide6.Qt')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    return set(out.stdout.split())


def test_spec_excludes_no_qt_module_the_app_imports():
    # pyqtgraph tries QtTest and falls back to a placeholder when it is missing (pyqtgraph/Qt/__init__.py)
    imported = (_qt_modules_we_import() | _qt_modules_loaded()) - {"QtTest"}
    assert "QtOpenGL" in imported  # pyqtgraph's PlotCurveItem imports it
    assert {"QtCore", "QtGui", "QtWidgets", "QtSvg"} <= imported  # the scan itself sees our imports
    assert not imported & set(_spec_value("QT_UNUSED"))
    assert {"QtWebEngineCore", "Qt3DCore", "QtQuick", "QtQml", "QtMultimedia"} <= set(_spec_value("QT_UNUSED"))


@pytest.mark.parametrize("path", [
    "_internal/libQt6Qml.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "PySide6/Qt/translations/qt_de.qm",
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", "pyarrow/libarrow_flight.so.2600",
    "pyarrow/libarrow_python_flight.so.2600", "PySide6/Qt/plugins/platformthemes/libqgtk3.so", "libgtk-3.so.0",
    "pyarrow/include/arrow/api.h", "pyarrow/_s3fs.cpython-312-x86_64-linux-gnu.so", "pyogrio/tests/fixtures/a.shp",
])
def test_spec_drops_unused_files(path):
    assert _spec_value("DROP").search(path)


@pytest.mark.parametrize("path", [
    "PySide6/Qt/lib/libQt6Svg.so.6", "PySide6/Qt/lib/libQt6Widgets.so.6", "PySide6/Qt/lib/libQt6Pdf.so.6",
    "PySide6/Qt/translations/qtbase_de.qm", "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/libqoffscreen.so", "pyarrow/libarrow_compute.so.2600", "pyarrow/libarrow.so.2600",
    "pyarrow/_csv.cpython-312-x86_64-linux-gnu.so", "pyogrio/gdal_data/gdalvrt.xsd", "pyproj/proj_dir/share/proj/proj.db",
    "territory_desktop/resources/demo/rep_cities.csv", "territory_desktop/resources/icons/app/territory-desktop-256.png",
    "_plotly_geo/package_data/cb_2016_us_county_500k.shp",
])
def test_spec_keeps_what_the_app_loads(path):
    assert not _spec_value("DROP").search(path)


def test_spec_collects_our_data_and_the_reference_layers():
    from territory_desktop.storage import reference

    strings = _spec_strings()
    assert {"territory_desktop", "pyogrio", "pyproj", "_plotly_geo", "zipcodes", "territory-desktop"} <= strings
    pattern = next(s for s in strings if s.startswith("cb_2016_us_"))
    for layer in (reference.COUNTIES, reference.STATES):
        assert fnmatch.fnmatch(layer, pattern)
        assert fnmatch.fnmatch(layer.replace(".shp", ".dbf"), pattern)
    assert not fnmatch.fnmatch("gz_2010_us_050_00_500k.shp", pattern)
    source = SPEC.read_text(encoding="utf-8")
    assert "copy_metadata" in source and 'PYPROJECT["project"]["dependencies"]' in source


def test_version_flag_prints_the_pyproject_version():
    out = subprocess.run([sys.executable, "-m", "territory_desktop", "--version"], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == f"territory-desktop {VERSION}"


def test_package_version_attribute_matches_pyproject():
    import territory_desktop

    assert territory_desktop.__version__ == VERSION


def test_info_plist_declares_the_gpkg_document_type():
    info = plistlib.loads(PLIST.read_bytes())
    assert info["CFBundleExecutable"] == "territory-desktop"
    assert (APP_ICONS / info["CFBundleIconFile"]).exists()
    (doc,) = info["CFBundleDocumentTypes"]
    assert doc["CFBundleTypeExtensions"] == ["gpkg"] and doc["CFBundleTypeRole"] == "Editor"
    (uti,) = info["UTImportedTypeDeclarations"]
    assert uti["UTTypeIdentifier"] in doc["LSItemContentTypes"]
    assert uti["UTTypeTagSpecification"]["public.filename-extension"] == ["gpkg"]
    assert info["NSHighResolutionCapable"] is True


def _iss_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in ISS.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith((";", "#")):
            continue
        if re.fullmatch(r"\[\w+\]", line):
            current = sections.setdefault(line[1:-1], [])
        else:
            assert current is not None, f"{line!r} before the first section"
            current.append(line)
    return sections


def _iss_entries(lines: list[str]) -> list[dict[str, str]]:
    """Inno Setup entries: ``Name: "value"; Other: value`` (quotes doubled inside values)."""
    out = []
    for line in lines:
        pairs = re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]*)', line)
        out.append({k: _iss_value(v.strip()) for k, v in pairs})
    return out


def _iss_value(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text.replace('""', '"')


def test_inno_setup_script_has_start_menu_association_and_uninstall():
    from territory_desktop.cli import build_parser

    sections = _iss_sections()
    assert {"Setup", "Files", "Icons", "Registry", "Tasks", "Run"} <= set(sections)
    setup = dict(line.split("=", 1) for line in sections["Setup"])
    assert setup["ChangesAssociations"] == "yes" and "UninstallDisplayIcon" in setup
    assert (ISS.parent / setup["SetupIconFile"].replace("\\", "/")).exists()
    (files,) = _iss_entries(sections["Files"])
    assert files["Source"].replace("\\", "/").endswith("dist/territory-desktop/*")
    icons = _iss_entries(sections["Icons"])
    assert any(e["Name"].startswith("{autoprograms}") and e["Filename"] == "{app}\\{#AppExe}" for e in icons)
    assert any(e["Filename"] == "{uninstallexe}" for e in icons)
    registry = _iss_entries(sections["Registry"])
    command = next(e["ValueData"] for e in registry if e["Subkey"].endswith("shell\\open\\command"))
    assert command == '"{app}\\{#AppExe}" gui "%1"'
    args = build_parser().parse_args(["gui", "C:\\plans\\east.gpkg"])  # the verb's subcommand exists
    assert args.command == "gui" and args.project == "C:\\plans\\east.gpkg"
    assert any(e["Subkey"] == "Software\\Classes\\.gpkg\\OpenWithProgids" for e in registry)
    assert all("uninsdelete" in e.get("Flags", "") for e in registry if e["Subkey"] in
               ("Software\\Classes\\{#ProgId}", "Software\\Classes\\.gpkg\\OpenWithProgids"))


def test_icons_exist_at_every_size():
    from PIL import Image

    for size in (16, 24, 32, 48, 64, 128, 256, 512, 1024):
        with Image.open(APP_ICONS / f"territory-desktop-{size}.png") as im:
            assert im.size == (size, size) and im.mode == "RGBA"
            assert im.getpixel((0, 0))[3] == 0  # rounded corner: transparent
            assert im.getpixel((size // 2, size // 2))[3] == 255
    with Image.open(APP_ICONS / "territory-desktop.ico") as ico:
        assert {(s, s) for s in (16, 24, 32, 48, 64, 128, 256)} <= set(ico.info["sizes"])
    with Image.open(APP_ICONS / "territory-desktop.icns") as icns:
        assert {(16, 16, 2), (128, 128, 1), (256, 256, 1), (512, 512, 2)} <= set(icns.info["sizes"])


def test_shell_scripts_parse_and_make_bundle_runs_the_smoke_test():
    for script in ("smoke-test.sh", "debian-root-test.sh", "macos/build-dmg.sh"):
        subprocess.run(["bash", "-n", str(INSTALLER / script)], check=True)
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"^bundle:.*?(?=^\S|\Z)", makefile, flags=re.MULTILINE | re.DOTALL).group(0)
    assert "installer/territory-desktop.spec" in target and "installer/smoke-test.sh" in target
    dmg = (INSTALLER / "macos" / "build-dmg.sh").read_text()
    for step in ("codesign", "notarytool submit", "stapler staple", "hdiutil create"):
        assert step in dmg


def test_file_open_event_opens_the_project(qapp):
    from PySide6.QtCore import QObject
    from PySide6.QtGui import QFileOpenEvent

    from territory_desktop.ui.app import _FileOpenFilter

    class Window(QObject):
        def __init__(self):
            super().__init__()
            self.opened: list[str] = []

        def open_path_async(self, path):
            self.opened.append(path)

    window = Window()
    opener = _FileOpenFilter(window)
    qapp.installEventFilter(opener)
    try:
        qapp.sendEvent(qapp, QFileOpenEvent("/tmp/east.gpkg"))
    finally:
        qapp.removeEventFilter(opener)
    assert window.opened == ["/tmp/east.gpkg"]


def test_window_icon_file_is_the_256_px_rendering():
    from PySide6.QtGui import QImage

    from territory_desktop.ui.app import APP_ICON

    assert QImage(str(APP_ICON)).width() == 256


def _strip_bundle():
    import importlib.util

    spec = importlib.util.spec_from_file_location("strip_bundle", INSTALLER / "strip-bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _first_load_header(data: bytes) -> int:
    """Byte offset of the first PT_LOAD program header (read with struct here, independently)."""
    import struct

    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return next(phoff + i * phentsize for i in range(phnum)
                if struct.unpack_from("<I", data, phoff + i * phentsize)[0] == 1)


def test_strip_check_refuses_a_misaligned_load_segment():
    import struct

    loadable = _strip_bundle().loadable
    data = bytearray(Path(sys.executable).resolve().read_bytes())
    assert loadable(bytes(data))
    header = _first_load_header(bytes(data))
    offset, = struct.unpack_from("<Q", data, header + 8)
    struct.pack_into("<Q", data, header + 8, offset + 8)  # p_offset no longer congruent to p_vaddr
    assert not loadable(bytes(data))
    assert not loadable(b"#!/bin/sh\n" + bytes(64))


def test_strip_leaves_vendored_libraries_and_the_executable(tmp_path):
    internal = tmp_path / "_internal"
    for name in ("a.so", "pkg/b.cpython-312.so", "scipy.libs/libopenblas-1.so", "libz.so.1"):
        (internal / name).parent.mkdir(parents=True, exist_ok=True)
        (internal / name).write_bytes(b"")
    (tmp_path / "territory-desktop").write_bytes(b"")
    names = [p.relative_to(internal).as_posix() for p in _strip_bundle().candidates(tmp_path)]
    assert names == ["a.so", "libz.so.1", "pkg/b.cpython-312.so"]
