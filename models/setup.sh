#!/usr/bin/env bash
# The Python side of Guise (models/): Debian's CPU-only PyTorch and ONNX, plus
# a virtualenv over them for what Debian lacks (onnxruntime, paddlepaddle,
# pytest). Idempotent; prints the venv's python path last.
#
# Why Debian's torch: PyPI's Linux torch wheels pull gigabytes of CUDA
# libraries, and the CPU-only index is not reachable from these machines.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
APT=(python3-venv python3-torch python3-onnx python3-numpy python3-scipy python3-opencv python3-pil)
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
want=$(sha1sum "$here/requirements.txt" | cut -c1-40)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[guise] python: preparing $venv" >&2
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
