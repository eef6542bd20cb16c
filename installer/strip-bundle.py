"""Strip debug symbols from the shared libraries of a Linux bundle, keeping only results that still load.

    python installer/strip-bundle.py dist/territory-desktop

PyInstaller's own ``strip=True`` strips every library, and breaks the ones auditwheel rewrote with
patchelf (scipy's OpenBLAS then fails with "ELF load command address/offset not page-aligned"). Here each
library is stripped to a temporary copy (``strip --strip-unneeded``); the copy replaces the original only
when every LOAD segment of it is still page-congruent (``p_offset % p_align == p_vaddr % p_align``, the
check the dynamic loader makes). Libraries vendored by auditwheel (``*.libs/`` folders) are left alone,
and so is the executable (its archive is appended to it). Prints the bytes saved.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

PT_LOAD = 1


def loadable(data: bytes) -> bool:
    """True when ``data`` is a 64-bit little-endian ELF whose LOAD segments the loader accepts."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _flags, p_offset, p_vaddr = struct.unpack_from("<IIQQ", data, phoff + i * phentsize)
        p_align, = struct.unpack_from("<Q", data, phoff + i * phentsize + 0x30)
        if p_type == PT_LOAD and p_align > 1 and p_offset % p_align != p_vaddr % p_align:
            return False
    return True


def candidates(bundle: Path) -> list[Path]:
    return sorted(p for p in (bundle / "_internal").rglob("*.so*")
                  if p.is_file() and not p.is_symlink() and not any(part.endswith(".libs") for part in p.parts))


def strip_one(path: Path, scratch: Path) -> int:
    """Strip ``path`` in place if the stripped copy is loadable and smaller; returns the bytes saved."""
    out = scratch / "stripped.so"
    done = subprocess.run(["strip", "--strip-unneeded", "-o", str(out), str(path)], check=False,
                          capture_output=True)
    if done.returncode != 0 or not loadable(out.read_bytes()):
        return 0
    saved = path.stat().st_size - out.stat().st_size
    if saved > 0:
        shutil.copymode(path, out)
        shutil.move(out, path)
    return max(saved, 0)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "_internal").is_dir():
        print("usage: strip-bundle.py BUNDLE_DIR (a PyInstaller one-folder bundle)", file=sys.stderr)
        return 2
    if shutil.which("strip") is None:
        print("warning: no `strip` (binutils) on PATH: the bundle is left unstripped", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        files = candidates(Path(argv[0]))
        saved = sum(strip_one(f, Path(scratch)) for f in files)
    print(f"stripped {len(files)} libraries: {saved / 1e6:.0f} MB saved")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
