"""Entry point: ``territory-desktop`` / ``python -m territory_desktop``."""

import sys

from .cli import main as cli_main


def main() -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # the frozen bundle: a spawned pool worker (route --all) runs its task, not the app
    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
