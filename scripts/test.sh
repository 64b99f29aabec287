#!/usr/bin/env bash
# The test command: installs what it needs (scripts/setup.sh), then lints and
# runs every test, the end-to-end tests on real clusters included.
#   scripts/test.sh            what CI runs (under an hour on a built bundle)
#   scripts/test.sh --full     also the long end-to-end cases (marked `full`)
# Other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--full" ]; then
  export LABCTL_FULL=1
  shift
fi
./scripts/setup.sh --test-tools
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"
ruff check labctl tests benchmarks collections
echo "== ansible-lint"
ansible-lint -q playbooks roles
echo "== pytest"
pytest -q -p no:cacheprovider "$@"
