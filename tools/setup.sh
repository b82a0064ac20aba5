#!/usr/bin/env bash
# Installs everything the workflow and its tests need, on Debian or Ubuntu:
# the system packages (through apt-get, only those missing), the Python
# packages pinned in requirements.lock (into .venv), and the extra interpreters
# of the default grid (tools/build-interpreters.sh: two CPython 3.13 builds and
# PyPy, into .interpreters/). Safe to run again: a step whose result is already
# there is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/system-packages.sh

# Pango for WeasyPrint (PDF), fonts for figures and PDF, Chromium and poppler
# for the tests that look at the rendered report, redis-server for the
# experiments that share state through Redis, SLURM and munge for the test of
# the cluster profile, venv for the Python install.
SYSTEM_PACKAGES=(
  python3-venv
  libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
  chromium poppler-utils
  redis-server
  slurmctld slurmd slurm-client munge
)

install_system_packages "${SYSTEM_PACKAGES[@]}"

# Reinstall the Python packages only when the lock file changed.
stamp=.venv/.requirements.lock.sha256
want=$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing Python packages from requirements.lock into .venv"
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock
  # The project itself, editable: importable by every process of the venv,
  # worker processes started by joblib included.
  .venv/bin/python -m pip install --quiet --no-deps --editable .
  echo "$want" > "$stamp"
fi
tools/build-interpreters.sh
echo "setup: ready ($(.venv/bin/python --version), snakemake $(.venv/bin/snakemake --version))"
