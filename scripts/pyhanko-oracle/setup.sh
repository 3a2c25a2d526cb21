#!/usr/bin/env bash
# Builds pyHanko (the second oracle of issue 14) into a virtual environment from its source
# repository at a pinned commit. pyHanko is not on the package index these machines reach, so its
# source comes from a git repository; its dependencies come from pip's configured index.
# Nothing of pyHanko's code is copied into this repository: the sources are exported into
# .cache/pyhanko-oracle/ (git-ignored) and installed from there.
#
#   bash scripts/pyhanko-oracle/setup.sh            # idempotent; prints the venv's python
#
# Where the sources come from (first match wins):
#   PYHANKO_GIT / URITOOLS_GIT   a git directory (bare or not) holding the pinned commit;
#   /work/.mirror/<owner>+<name>/repo, the fetched snapshots on our machines;
#   otherwise a clone of the public repository.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# The pinned commits. pyHanko's is the snapshot tests/corpus/manifest.json also names; the monorepo
# carries pyhanko-certvalidator under pkgs/. uritools (a certvalidator dependency) is not on our
# package index either.
PYHANKO_COMMIT=7db4e6fe97552416944c2be98cdeb918c98d4891
URITOOLS_COMMIT=1908bfa847b319ee01fb83b100381b1cafad94c5

CACHE=.cache/pyhanko-oracle
VENV="$CACHE/venv"
STAMP="$CACHE/installed-$PYHANKO_COMMIT-$URITOOLS_COMMIT"

if [ -f "$STAMP" ] && [ -x "$VENV/bin/python" ]; then
  echo "$VENV/bin/python"
  exit 0
fi

# export <git-dir-or-url> <commit> <dest> [paths...]: only the paths needed (a snapshot may lack
# its largest test files)
export_source() {
  local src=$1 commit=$2 dest=$3
  shift 3
  rm -rf "$dest"
  mkdir -p "$dest"
  if [ -d "$src" ]; then
    git --git-dir="$src" archive "$commit" "$@" | tar -x -C "$dest"
  else
    local tmp
    tmp=$(mktemp -d)
    git clone --quiet --filter=blob:none "$src" "$tmp/repo"
    git -C "$tmp/repo" archive "$commit" "$@" | tar -x -C "$dest"
    rm -rf "$tmp"
  fi
}

git_source() {
  local var=$1 mirror=$2 url=$3
  if [ -n "${!var:-}" ]; then
    echo "${!var}"
  elif [ -d "$mirror" ]; then
    echo "$mirror"
  else
    echo "$url"
  fi
}

mkdir -p "$CACHE"
PYHANKO_SRC=$(git_source PYHANKO_GIT /work/.mirror/MatthiasValvekens+pyHanko/repo https://github.com/MatthiasValvekens/pyHanko)
URITOOLS_SRC=$(git_source URITOOLS_GIT /work/.mirror/tkem+uritools/repo https://github.com/tkem/uritools)
echo "pyHanko $PYHANKO_COMMIT from $PYHANKO_SRC" >&2
export_source "$PYHANKO_SRC" "$PYHANKO_COMMIT" "$CACHE/src/pyHanko" pkgs/pyhanko pkgs/pyhanko-certvalidator
echo "uritools $URITOOLS_COMMIT from $URITOOLS_SRC" >&2
export_source "$URITOOLS_SRC" "$URITOOLS_COMMIT" "$CACHE/src/uritools"

python3 -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --retries 0)
# uritools takes its version from git tags (setuptools-scm); an exported tree has none
SETUPTOOLS_SCM_PRETEND_VERSION=6.0.0 "${PIP[@]}" "$CACHE/src/uritools"
# certvalidator's oscrypto is only imported to read the OS trust store, which the oracle never
# uses (it passes no trust roots and fetches nothing): leave it out (it is not on the index)
# (both packages' other dependencies, from their pyproject.toml at the pinned commit)
"${PIP[@]}" 'asn1crypto>=1.5.1' 'cryptography>=48.0.0' 'requests>=2.31.0' 'tzlocal>=4.3' 'lxml>=5.4.0'
"${PIP[@]}" --no-deps "$CACHE/src/pyHanko/pkgs/pyhanko-certvalidator" "$CACHE/src/pyHanko/pkgs/pyhanko"
"$VENV/bin/python" -c 'import pyhanko, pyhanko_certvalidator; from pyhanko.sign.validation import validate_pdf_signature' >&2
printf '%s\n%s\n' "pyHanko $PYHANKO_COMMIT" "uritools $URITOOLS_COMMIT" >"$STAMP"
echo "$VENV/bin/python"
