#!/usr/bin/env bash
# Create .venv (if missing or stale) and install permadani with what the given extras need.
# Usage: scripts/bootstrap.sh [extras]   e.g. scripts/bootstrap.sh dev
# Re-runs are cheap: a stamp file remembers the hash of pyproject.toml the venv was built from.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extras="${1:-}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "permadani needs Python >= 3.11 (found: $("$python" --version 2>&1)). Set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
venv="$root/.venv"
stamp="$venv/.permadani-stamp"
want="$(sha256sum pyproject.toml | cut -c1-16)-${extras:-base}"
if [ ! -x "$venv/bin/python" ]; then
  echo "bootstrap: creating $venv" >&2
  "$python" -m venv "$venv"
fi
have="$(cat "$stamp" 2>/dev/null || true)"
case ",$have," in
  *",$want,"*) ;;
  *)
    echo "bootstrap: installing permadani${extras:+[$extras]} into .venv (first run takes a minute or two)" >&2
    "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
    "$venv/bin/python" -m pip install --quiet -e ".${extras:+[$extras]}" >&2
    echo "${have:+$have,}$want" > "$stamp"
    ;;
esac
