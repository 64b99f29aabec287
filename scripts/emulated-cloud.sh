#!/usr/bin/env bash
# An emulated cloud on this machine whose instances are real local nodes (run as root):
#   scripts/emulated-cloud.sh aws        prints the environment to export, runs until Ctrl-C
#   scripts/emulated-cloud.sh --cleanup aws   removes what a killed run left
# Then, in another shell: eval the printed exports and `labctl up aws --offline --allow-from <printed CIDR>`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python tests/cloudemu/emulated_cloud.py "$@"
