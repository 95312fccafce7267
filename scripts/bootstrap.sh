# Sourced by scripts/run and scripts/test: make sure .venv exists and matches pyproject.toml.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

pick_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3.10 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "stashplex needs Python 3.10 or newer (set PYTHON=/path/to/python3)" >&2
    return 1
}

bootstrap() {
    local extras="$1"  # "" or "[dev]"
    local stamp="$VENV/.installed$extras"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "Creating virtualenv in $VENV" >&2
        "$(pick_python)" -m venv "$VENV"
    fi
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        echo "Installing stashplex$extras into $VENV" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$extras"
        touch "$stamp"
    fi
}
