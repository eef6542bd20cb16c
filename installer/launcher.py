"""PyInstaller entry script: the frozen ``territory-desktop`` executable runs the same ``main`` as the
installed console script (GUI without a subcommand, headless commands otherwise)."""

import os
import sys

from territory_desktop.__main__ import main

if __name__ == "__main__":
    # a windowed (no console) executable on Windows has no stdout/stderr: give prints and the CLI's final
    # flush somewhere to go instead of failing with AttributeError
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process
    sys.exit(main())
