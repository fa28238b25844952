#!/usr/bin/env bash
# Creates both environments from the repo's own lock files; fast no-op when they are current.
#   .venv       Python >=3.11, the app (uv.lock)
#   .venv-rasa  Python 3.10, Rasa 3.6.21 (bot/rasa_project/requirements.lock)
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[bootstrap] %s\n' "$*" >&2; }

find_uv() {
  if command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then command -v uv; return; fi
  if [ -x .tools/bin/uv ]; then echo .tools/bin/uv; return; fi
  say "uv not found; installing it into .tools/ from PyPI"
  python3 -m venv .tools >&2
  .tools/bin/python -m pip install --quiet --disable-pip-version-check uv >&2
  echo .tools/bin/uv
}

UV=$(find_uv)
export UV_LINK_MODE=copy
# Compile .pyc once at install: with PYTHONDONTWRITEBYTECODE set (common in containers) nothing is ever
# cached, and every `advisor` command would re-compile its imports (seconds) on each start.
export UV_COMPILE_BYTECODE=1

# Cheap content stamps so a second `make run` skips every install step.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

app_stamp=$(stamp_of uv.lock pyproject.toml)
if [ "$(cat .venv/.bootstrap-stamp 2>/dev/null)" != "$app_stamp" ]; then
  say "creating .venv (app, Python >=3.11) from uv.lock"
  "$UV" sync --locked --quiet
  echo "$app_stamp" > .venv/.bootstrap-stamp
fi

find_python310() {
  local candidate
  candidate=$("$UV" python find 3.10 2>/dev/null || true)
  if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    echo "$candidate"; return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/3.10*/bin/python3.10; do
      if [ -x "$candidate" ]; then echo "$candidate"; return; fi
    done
  fi
  for candidate in python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  say "no Python 3.10 found; asking uv to download a managed one"
  if "$UV" python install 3.10 >&2; then "$UV" python find 3.10; return; fi
  return 1
}

rasa_stamp=$(stamp_of bot/rasa_project/requirements.lock)
if [ "$(cat .venv-rasa/.bootstrap-stamp 2>/dev/null)" != "$rasa_stamp" ]; then
  if ! PY310=$(find_python310); then
    say "ERROR: Rasa 3.6 needs Python 3.10 and none was found or downloadable."
    say "Install one, e.g. 'uv python install 3.10', 'pyenv install 3.10', or 'apt-get install python3.10',"
    say "then run this command again."
    exit 1
  fi
  say "creating .venv-rasa (Rasa 3.6.21, $("$PY310" --version)) from bot/rasa_project/requirements.lock"
  rm -rf .venv-rasa
  "$UV" venv --quiet --python "$PY310" .venv-rasa
  VIRTUAL_ENV=.venv-rasa "$UV" pip sync --quiet bot/rasa_project/requirements.lock
  echo "$rasa_stamp" > .venv-rasa/.bootstrap-stamp
fi
