#!/usr/bin/env bash
# Installs Debian's PgBouncer, only when missing, for the pooler tests (tests/ops/):
# they start their own pgbouncer on a free port with a config of their own. The
# package's service is not used (the tests stop what they start).
set -euo pipefail

[ -x /usr/sbin/pgbouncer ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "pgbouncer-deps: need root to install pgbouncer" >&2
    # Locally the PgBouncer tests then skip; CI must have it.
    [ -n "${CI:-}" ] && exit 1
    exit 0
  fi
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
apt_install() {
  $SUDO apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
}
# Only refresh the package lists when the install cannot proceed with the ones we have.
if ! apt_install 2>/dev/null; then
  $SUDO apt-get update -qq >/dev/null
  apt_install
fi
echo "pgbouncer-deps: installed pgbouncer"
