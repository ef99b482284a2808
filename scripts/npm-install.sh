#!/usr/bin/env bash
# Installs one folder's npm packages into its own node_modules (git-ignored), exactly as
# its package-lock.json pins them: `npm ci` checks every file against the lockfile's
# integrity hashes. Runs again only when the lockfile changed since the last install.
#
#   scripts/npm-install.sh DIR             fails when npm is missing (tests, CI)
#   scripts/npm-install.sh --optional DIR  says what is missing and succeeds (make run)
set -euo pipefail

optional=0
if [ "${1:-}" = "--optional" ]; then optional=1; shift; fi
dir="${1:?usage: npm-install.sh [--optional] DIR}"
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "npm-install: npm is not installed, so $dir/node_modules cannot be made" \
       "(Debian: apt-get install npm)" >&2
  [ "$optional" -eq 1 ] && exit 0
  exit 1
fi

stamp="$dir/node_modules/.jinlin-lock.sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# --ignore-scripts: nothing from the registry runs at install time.
if ! npm ci --prefix "$dir" --no-audit --no-fund --ignore-scripts --loglevel=error >&2; then
  echo "npm-install: npm ci failed in $dir" >&2
  [ "$optional" -eq 1 ] && exit 0
  exit 1
fi
echo "$want" > "$stamp"
echo "npm-install: installed $dir/node_modules" >&2
