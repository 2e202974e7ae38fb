# Sourced by scripts/run and scripts/test: find Python 3.13 and make the venv in .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 "$(command -v pyenv >/dev/null 2>&1 && echo "$(pyenv root)/versions/3.13.0/bin/python3.13")" \
      "$HOME"/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_venv() {
  local requirements="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    local python
    if ! python="$(find_python)"; then
      echo "error: Python 3.13 is required and was not found." >&2
      echo "       Install it (e.g. 'pyenv install 3.13' or your distribution's python3.13) or set PYTHON=/path/to/python3.13." >&2
      exit 1
    fi
    echo "==> creating .venv with $python"
    "$python" -m venv "$VENV"
  fi
  # mysqlclient builds from source and needs the MariaDB client headers.
  if ! pkg-config --exists libmariadb 2>/dev/null && ! pkg-config --exists mysqlclient 2>/dev/null; then
    install_apt_packages libmariadb-dev pkg-config
  fi
  local stamp="$VENV/.installed-$(cat "$ROOT"/requirements*.txt | sha256sum | cut -c1-16)-$(basename "$requirements")"
  if [ ! -f "$stamp" ]; then
    echo "==> installing $(basename "$requirements")"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/$requirements"
    touch "$stamp"
  fi
}

install_apt_packages() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing system packages: ${missing[*]} (install them with your package manager)." >&2
    exit 1
  fi
  echo "==> apt-get install ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
