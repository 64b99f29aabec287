#!/usr/bin/env bash
# The test command: installs what it needs (scripts/setup.sh), then lints and
# runs every test, the end-to-end test on a real local cluster included.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"
ruff check labctl tests benchmarks collections
echo "== ansible-lint"
ansible-lint -q playbooks roles
echo "== pytest"
pytest -q -p no:cacheprovider "$@"
