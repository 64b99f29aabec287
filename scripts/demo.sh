#!/usr/bin/env bash
# The main job on the local default: a real cluster, the apps, a drill, a report.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
labctl up
labctl status
labctl drill pod-kill
labctl report
