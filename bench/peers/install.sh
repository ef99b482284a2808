#!/usr/bin/env bash
# Install the read peer, PostGraphile v4, from the committed lockfile into
# bench/peers/node_modules (git-ignored). Run by bench/peers/postgraphile.py; does
# nothing when the install matches the lockfile. Node.js and npm come from Debian when
# the machine lacks them (as root).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "bench/peers: npm is missing (apt-get install nodejs npm)" >&2
    exit 3
  fi
fi
# npm ci writes node_modules/.package-lock.json: newer than the lockfile = installed.
if [ ! -x node_modules/.bin/postgraphile ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
