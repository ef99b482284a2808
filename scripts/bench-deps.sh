#!/usr/bin/env bash
# Installs what `make bench` drives its HTTP load with, only when missing: Debian's wrk.
# The peers (PostGraphile) install themselves from bench/peers/package-lock.json.
set -euo pipefail

command -v wrk >/dev/null 2>&1 && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "bench-deps: need root to install wrk" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
apt_install() { $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
if ! apt_install 2>/dev/null; then
  $SUDO apt-get update -qq >/dev/null
  apt_install
fi
echo "bench-deps: installed wrk"
