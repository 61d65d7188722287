#!/usr/bin/env bash
# Create benchmarks/.venv-peers: a separate virtual environment (no system site-packages) with
# torch==2.13.0, numpy, the repo's four spikingtorch distributions (editable, so a benchmark
# always times the working tree) and the peer libraries of requirements-peers.txt.
#
# Idempotent: a stamp file records a hash of the inputs (constraints, requirement files, this
# script); when it matches and the imports still work, nothing is installed. A changed input
# re-runs the installs; --force re-runs them anyway.
#
# Usage: bash benchmarks/setup_peers.sh [--force]
#   PYTHON=python3.11   interpreter to create the venv with (default python3.11)
#   VENV=path           venv location (default benchmarks/.venv-peers)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="${VENV:-$here/.venv-peers}"
python="${PYTHON:-python3.11}"
force=0
[[ "${1:-}" == "--force" ]] && force=1

# torch is pinned through the repo's constraints (a local CPU wheel on the project's machines:
# an unpinned torch would download a multi-GB CUDA build). PIP_CONSTRAINT also reaches pip's
# isolated build environments (norse ships as an sdist).
export PIP_CONSTRAINT="$root/constraints.txt"

stamp="$venv/.spikingtorch-bench-stamp"
inputs_hash="$(cat "$root/constraints.txt" "$here/requirements-peers.txt" \
    "$here/requirements-peers-deps.txt" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"

check_imports() {
    "$venv/bin/python" - <<'PY'
import importlib

for name in ("torch", "numpy", "spikingtorch", "spikingtorch_neurons", "snntorch", "norse",
             "spikingjelly.activation_based"):
    importlib.import_module(name)
import torch

print("peers venv ok: torch", torch.__version__)
PY
}

if [[ $force -eq 0 && -f "$stamp" && "$(cat "$stamp")" == "$inputs_hash" ]] \
        && check_imports 2>/dev/null; then
    echo "benchmarks/.venv-peers is up to date ($venv)"
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating $venv with $python"
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --disable-pip-version-check)

"${pip[@]}" "torch==2.13.0" numpy
"${pip[@]}" \
    -e "$root/packages/spikingtorch-core" \
    -e "$root/packages/spikingtorch-neurons" \
    -e "$root/packages/spikingtorch-encoders" \
    -e "$root/packages/spikingtorch-datasets"
# The peers without their declared dependencies, then the few they import.
"${pip[@]}" --no-deps -r "$here/requirements-peers.txt"
"${pip[@]}" -r "$here/requirements-peers-deps.txt"

check_imports
echo "$inputs_hash" > "$stamp"
echo "ready: the workers of benchmarks/bench_train.py now run in $venv"
