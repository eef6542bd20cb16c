#!/usr/bin/env bash
# Print the path of a Python 3.12+ interpreter: $PYTHON, python3.13/3.12 on PATH, pyenv's, or python3.
set -euo pipefail
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
for c in "${PYTHON:-}" python3.13 python3.12; do
  [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && ok "$(command -v "$c")" && { command -v "$c"; exit 0; }
done
for c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3; do
  [ -x "$c" ] && ok "$c" && { echo "$c"; exit 0; }
done
echo "error: Territory Desktop needs Python 3.12 or newer; install it (e.g. apt-get install python3.12 or pyenv install 3.12) or set PYTHON=/path/to/python3.12" >&2
exit 1
