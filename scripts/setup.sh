#!/usr/bin/env bash
# Install what AFG needs on a fresh Debian machine with Python 3.11.
#   bash scripts/setup.sh          # the app: system GL libraries for headless VTK, .venv with requirements.txt
#   bash scripts/setup.sh --test   # also what the tests need: Debian's chromium, pytest, Playwright (no browser download)
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[[ "${1:-}" == "--test" ]] && with_tests=1

# VTK (PyVista) renders off-screen through EGL with Mesa's software driver: no X server, no GPU.
packages=(libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri libgbm1 libglx-mesa0 libxrender1)
if (( with_tests )); then
  packages+=(chromium)
fi
if command -v apt-get >/dev/null; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    sudo_cmd=""
    [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
    echo "Installing system packages: ${missing[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "warning: not a Debian system; install EGL/Mesa libraries (and chromium for tests) yourself" >&2
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 needed, found {sys.version}"'
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if (( with_tests )); then
  .venv/bin/python -m pip install -q -r requirements-test.txt -c constraints.txt
else
  .venv/bin/python -m pip install -q -r requirements.txt -c constraints.txt
fi
# afg_core itself, editable: the package the app, the CLI and the 3D export child process import.
.venv/bin/python -m pip install -q --no-deps -e .
echo "AFG environment ready in .venv"
