#!/usr/bin/env bash
# Installs or builds the extra interpreters of the default grid (config key
# "interpreters") into .interpreters/, each with what the experiments need:
#
#   cpython-3.13t  CPython 3.13 built with --disable-gil (free-threaded, PEP 703)
#   cpython-3.13   the same source built the default way, with the GIL
#   pypy3          Debian's pypy3 (PyPy 7.3, Python 3.9), in a venv
#
# Both CPython builds come from the upstream tarball of Debian's python3.13
# source package, fetched with `apt-get source` from the Debian archive that
# this machine's apt configuration already uses (a local mirror included) and
# checked against the SHA-256 of the signed source index. Each interpreter is
# built once: a stamp records what it was built from, and a later run skips it.
# tools/setup.sh runs this script.
#
#   tools/build-interpreters.sh            build what is missing
#   tools/build-interpreters.sh --force    build them all again
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/system-packages.sh

ROOT=$PWD/.interpreters
# The Debian release whose python3.13 source package the CPythons are built from.
SOURCE_SUITE=trixie
SOURCE_PACKAGE=python3.13
BUILD_PACKAGES=(build-essential pkg-config xz-utils
  libssl-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev libsqlite3-dev libreadline-dev uuid-dev)
FORCE=${1:-}

log() { echo "build-interpreters: $*"; }

# The URI of the Debian archive (not its security archive) among apt's
# configured sources, so that the source is fetched where packages come from.
debian_archive_uri() {
  apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 'Label: Debian' | head -n1
}

# Downloads the python3.13 source package into $1 with apt-get, through a
# private sources list (a deb-src line for $SOURCE_SUITE on the configured
# archive) and private index folders, so that the machine's apt state is left
# as it was. Prints the path of the upstream tarball, checked against the .dsc.
fetch_source() {
  local work=$1 uri
  uri=$(debian_archive_uri)
  [[ -n $uri ]] || { log "no Debian archive among apt's sources (apt-get indextargets)" >&2; return 1; }
  mkdir -p "$work/lists/partial" "$work/src" "$work/parts" "$work/cache/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $SOURCE_SUITE main" > "$work/sources.list"
  local apt=(apt-get -qq -o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts="$work/parts"
    -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root)
  log "fetching the $SOURCE_PACKAGE source of Debian $SOURCE_SUITE from $uri" >&2
  "${apt[@]}" update >&2
  (cd "$work/src" && "${apt[@]}" source --download-only "$SOURCE_PACKAGE" >&2)
  local dsc tarball sha256
  dsc=$(ls "$work"/src/*.dsc)
  # The .dsc's "Checksums-Sha256" line for the upstream tarball: " <sha256> <size> <name>"
  read -r sha256 _ tarball < <(awk '/^Checksums-Sha256:/{c=1; next} /^[^ ]/{c=0}
    c && /orig\.tar\.xz$/{print; exit}' "$dsc")
  [[ -n ${tarball:-} ]] || { log "no upstream tarball in $dsc" >&2; return 1; }
  echo "$sha256  $work/src/$tarball" | sha256sum --check --quiet >&2
  echo "$work/src/$tarball"
}

# Builds the extracted source $1 out of tree (so that one source serves both
# builds) and installs it into prefix $2, with configure flags $3...
build_cpython() {
  local source=$1 prefix=$2 build
  shift 2
  build=$(mktemp -d)
  log "building $(basename "$prefix") (configure $*), log in $build/build.log"
  # No --enable-optimizations (PGO) and no test run: they take several times longer.
  (cd "$build" && "$source/configure" --prefix="$prefix" --with-ensurepip=install "$@" &&
    make -j2 && make install) > "$build/build.log" 2>&1 || { tail -n 30 "$build/build.log" >&2; return 1; }
  rm -rf "$build"
}

# Installs requirements-interpreters.lock into the interpreter at prefix $1
# (executable $2), unless its stamp says that this lock is installed already.
install_requirements() {
  local want
  want=$(sha256sum requirements-interpreters.lock | cut -d' ' -f1)
  [[ -f $1/.requirements && $(cat "$1/.requirements") == "$want" ]] && return
  log "installing requirements-interpreters.lock into $(basename "$1")"
  "$2" -m pip install --quiet --disable-pip-version-check --root-user-action ignore \
    --require-hashes -r requirements-interpreters.lock
  echo "$want" > "$1/.requirements"
}

# True when the interpreter at prefix $1 was built as stamp $2 says (its
# stamp is written once the build is complete).
is_built() {
  [[ $FORCE != --force && -f $1/.build && $(cat "$1/.build") == "$2" ]]
}

# What the CPython named $1 is built from: the source package and the flags.
build_stamp() {
  echo "$SOURCE_PACKAGE $SOURCE_SUITE $(configure_flags "$1")"
}

# The executable of the CPython named $1 under its prefix: python3.13t for
# the free-threaded build, python3.13 for the other.
executable() {
  echo "$ROOT/$1/bin/python3.13${1##*-3.13}"
}

# Builds the CPythons whose stamp is missing or out of date, from one
# download and one extracted source, and installs the requirements into each.
build_cpythons() {
  local todo=() name
  for name in cpython-3.13t cpython-3.13; do
    is_built "$ROOT/$name" "$(build_stamp "$name")" || todo+=("$name")
  done
  if ((${#todo[@]})); then
    install_system_packages "${BUILD_PACKAGES[@]}"
    local work tarball start
    work=$(mktemp -d)
    # expanded now: the trap runs when the script exits, after $work has gone out of scope
    trap "rm -rf '$work'" EXIT
    tarball=$(fetch_source "$work")
    tar -xJf "$tarball" -C "$work"
    local source=("$work"/Python-3.13*/)
    for name in "${todo[@]}"; do
      start=$SECONDS
      rm -rf "${ROOT:?}/$name"
      build_cpython "${source[0]%/}" "$ROOT/$name" $(configure_flags "$name")
      build_stamp "$name" > "$ROOT/$name/.build"
      log "$name built in $((SECONDS - start)) s"
    done
  fi
  for name in cpython-3.13t cpython-3.13; do
    install_requirements "$ROOT/$name" "$(executable "$name")"
    log "$name ready: $("$(executable "$name")" -VV)"
  done
}

# The configure flags of the CPython named $1.
configure_flags() {
  [[ $1 == *t ]] && echo --disable-gil || true
}

# Debian's pypy3, in a venv of its own so that pip installs beside it and not
# into the system's PyPy (pypy3-dev: psutil has no PyPy wheel and compiles).
install_pypy() {
  local prefix=$ROOT/pypy3
  if ! is_built "$prefix" "pypy3 venv"; then
    install_system_packages pypy3 pypy3-venv pypy3-dev build-essential
    rm -rf "$prefix"
    pypy3 -m venv "$prefix"
    echo "pypy3 venv" > "$prefix/.build"
  fi
  install_requirements "$prefix" "$prefix/bin/python"
  log "pypy3 ready: $("$prefix/bin/python" -VV | tr '\n' ' ')"
}

mkdir -p "$ROOT"
build_cpythons
install_pypy
