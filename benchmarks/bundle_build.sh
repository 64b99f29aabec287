#!/usr/bin/env bash
# Times `labctl.bundle.build`: warm (nothing to do; 3 runs, median), peak RSS,
# bundle size on disk, and with --cold a full build into an empty cache with
# a fresh Go build cache (long: tens of minutes on 2 cores).
#
# Usage: benchmarks/bundle_build.sh [--cold] [KUBE_VERSION]
set -euo pipefail

cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
COLD=0
if [[ "${1:-}" == "--cold" ]]; then COLD=1; shift; fi
KUBE=${1:-$($PY -c 'from labctl.bundle.versions import KUBERNETES_VERSION as v; print(v)')}

build_once() { # prints "seconds peak_rss_kb"
  local tv
  tv=$(mktemp)
  /usr/bin/time -v -o "$tv" "$PY" -c "
import sys, time, labctl.bundle as b
t = time.monotonic()
r = b.build('$KUBE', on_step=lambda n, e, d: print(f'  {n} {e} {d}', file=sys.stderr) if e != 'skip' else None)
print(f'{time.monotonic() - t:.2f}')
" >"$tv.out"
  echo "$(cat "$tv.out") $(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$tv")"
  rm -f "$tv" "$tv.out"
}

if [[ $COLD == 1 ]]; then
  cache=$(mktemp -d /var/tmp/labctl-cold-XXXX)
  gocache=$(mktemp -d /var/tmp/labctl-gocache-XXXX)
  echo "cold build into $cache (GOCACHE=$gocache) ..."
  read -r secs rss < <(LABCTL_CACHE=$cache GOCACHE=$gocache build_once)
  printf 'cold build: %.0f s (%.1f min), peak RSS %d MB\n' "$secs" "$(echo "$secs / 60" | bc -l)" $((rss / 1024))
  printf 'cold bundle size: %s\n' "$(du -sh "$cache/bundle/k8s-$KUBE" | cut -f1)"
  rm -rf "$cache" "$gocache"
fi

runs=()
peak=0
for _ in 1 2 3; do
  read -r secs rss < <(build_once)
  runs+=("$secs")
  (( rss > peak )) && peak=$rss
done
median=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
dir=$($PY -c "import labctl.bundle as b; print(b.bundle_dir('$KUBE'))")
echo "bundle: $dir"
echo "warm build: runs ${runs[*]} s, median $median s (target <= 10 s)"
echo "peak RSS (warm): $((peak / 1024)) MB"
echo "bundle size on disk: $(du -sh --exclude=logs "$dir" | cut -f1) ($(find "$dir" -path "$dir/logs" -prune -o -type f ! -name '.*' -print | wc -l) files)"
