#!/usr/bin/env bash
# Installs the Debian packages the tests need (interop tools, Chromium for e2e, PostgreSQL for the
# server's PostgreSQL tests), but only the ones that are missing. Non-interactive; runs
# `apt-get update` only when something has to be installed. Meant to run as root (CI does);
# falls back to sudo otherwise.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1; }

have pdfsig && have pdfinfo && have pdftotext && have pdftoppm || missing+=(poppler-utils)
have mutool || missing+=(mupdf-tools)
have qpdf || missing+=(qpdf)
have chromium || missing+=(chromium)
have openssl || missing+=(openssl)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
# an HSM for the PKCS#11 tests (server/src/pkcs11.test.ts): SoftHSM2 and its softhsm2-util
have softhsm2-util || missing+=(softhsm2)
# a CJK font for Chromium, so the e2e screenshots of Chinese pages show text, not boxes
DROID_FONT=/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
[ -e "$DROID_FONT" ] || missing+=(fonts-droid-fallback)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: nothing to install (poppler-utils, mupdf-tools, qpdf, chromium, openssl, postgresql, softhsm2, fonts-droid-fallback present)"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif have sudo; then
  sudo=(sudo -n)
else
  echo "install-deps: missing ${missing[*]} and not root (no sudo); install them with apt-get" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -q "${missing[@]}" </dev/null

for cmd in pdfsig mutool qpdf chromium openssl softhsm2-util; do
  have "$cmd" || { echo "install-deps: $cmd still missing after install" >&2; exit 1; }
done
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || {
  echo "install-deps: postgres still missing after install" >&2
  exit 1
}
[ -e "$DROID_FONT" ] || { echo "install-deps: fonts-droid-fallback still missing after install" >&2; exit 1; }
echo "install-deps: installed ${missing[*]}"
