"""PyInstaller entry script: the frozen ``territory-desktop`` executable runs the same ``main`` as the
installed console script (GUI without a subcommand, headless commands otherwise)."""

import sys

from territory_desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
