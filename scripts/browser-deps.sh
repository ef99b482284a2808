#!/usr/bin/env bash
# Installs what the browser tests need, only when missing: Debian's headless-capable
# Chromium (driven by Playwright through executable_path, never `playwright install`)
# and Noto CJK fonts, without which Chinese renders as empty boxes in screenshots.
# The receipt tests also need poppler's pdftoppm and zbar's zbarimg (PDF -> PNG -> QR
# code), and receipts embed WenQuanYi Zen Hei (TrueType outlines, which reportlab can
# embed; Noto CJK's CFF outlines it cannot).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" \
  || missing+=(fonts-noto-cjk)
dpkg-query -W -f='${Status}' fonts-wqy-zenhei 2>/dev/null | grep -q "install ok installed" \
  || missing+=(fonts-wqy-zenhei)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "browser-deps: need root to install ${missing[*]}" >&2
    # Locally the browser tests then skip; CI must have them.
    [ -n "${CI:-}" ] && exit 1
    exit 0
  fi
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
apt_install() {
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
# Only refresh the package lists when the install cannot proceed with the ones we have.
if ! apt_install 2>/dev/null; then
  $SUDO apt-get update -qq >/dev/null
  apt_install
fi
echo "browser-deps: installed ${missing[*]}"
