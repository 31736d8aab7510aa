#!/usr/bin/env bash
# The Python side of Guise (models/): Debian's CPU-only PyTorch and ONNX, plus
# a virtualenv over them for what Debian lacks (onnxruntime, pytest, and
# paddlepaddle for tests only). Idempotent; prints the venv's python path last.
#
# Why Debian's torch: PyPI's Linux torch wheels pull gigabytes of CUDA
# libraries, and the CPU-only index is not reachable from these machines.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
APT=(python3-venv python3-torch python3-onnx python3-numpy python3-scipy python3-opencv python3-pil python3-matplotlib)
missing=()
for p in "${APT[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[guise] apt: installing ${missing[*]}" >&2
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq
  $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
venv="${GUISE_CACHE:-$HOME/.cache/guise}/pyenv"
stamp="$venv/.requirements.sha1"
# requirements-paddle.txt: real Paddle, only for the official-checkpoint converter's parity
# tests (convert_official/); GUISE_NO_PADDLE=1 leaves it out and those tests skip.
reqs=("$here/requirements.txt")
[ "${GUISE_NO_PADDLE:-0}" = 1 ] || reqs+=("$here/requirements-paddle.txt")
want=$(cat "${reqs[@]}" | sha1sum | cut -c1-40)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[guise] python: preparing $venv" >&2
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${reqs[@]/#/-r}"
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
