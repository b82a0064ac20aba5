#!/usr/bin/env bash
# Builds a free-threaded CPython 3.13 (configure --disable-gil) from the
# upstream source that Debian ships in its python3.13 source package, into
# .interpreters/cpython-3.13t, and installs into it what the experiments need
# (requirements-interpreters.lock). Optional: the default grid lists this
# interpreter, and a run without it notes it as skipped. Takes a few minutes.
#
#   tools/build-free-threaded-python.sh            build (skipped if already built)
#   tools/build-free-threaded-python.sh --force    build again
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/system-packages.sh

PREFIX=$PWD/.interpreters/cpython-3.13t
PYTHON=$PREFIX/bin/python3.13t
# Debian's current release with python3.13; its source index names the tarball and its SHA-256.
SOURCES_INDEX=http://deb.debian.org/debian/dists/trixie/main/source/Sources.xz
POOL=http://deb.debian.org/debian/pool/main/p/python3.13

if [[ -x $PYTHON && ${1:-} != --force ]]; then
  echo "build-free-threaded-python: $($PYTHON -VV) is already in $PREFIX (--force to rebuild)"
else
  install_system_packages build-essential pkg-config curl xz-utils \
    libssl-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev libsqlite3-dev libreadline-dev uuid-dev
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  curl -fsS "$SOURCES_INDEX" | xz -dc > "$work/Sources"
  # the python3.13 stanza's SHA-256 line for the upstream tarball: "<sha256> <size> <name>"
  read -r sha256 _ tarball < <(awk '/^Package: python3.13$/{p=1} p && /^$/{exit}
    p && /^Checksums-Sha256:/{c=1; next} p && c && /orig\.tar\.xz$/{print; exit}' "$work/Sources")
  [[ -n ${tarball:-} ]] || { echo "build-free-threaded-python: no python3.13 source in $SOURCES_INDEX" >&2; exit 1; }
  echo "build-free-threaded-python: downloading $tarball"
  curl -fsS -o "$work/$tarball" "$POOL/$tarball"
  echo "$sha256  $work/$tarball" | sha256sum --check --quiet
  tar -xJf "$work/$tarball" -C "$work"
  cd "$work"/Python-3.13*/
  # No --enable-optimizations: profile-guided builds take several times longer.
  ./configure --quiet --disable-gil --prefix="$PREFIX" --with-ensurepip=install
  make --quiet -j"$(nproc)" >/dev/null
  make --quiet install >/dev/null
  cd - >/dev/null
fi
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action ignore --require-hashes -r requirements-interpreters.lock
echo "build-free-threaded-python: ready: $("$PYTHON" -VV), GIL $("$PYTHON" -c 'import sys; print("enabled" if sys._is_gil_enabled() else "disabled")')"
