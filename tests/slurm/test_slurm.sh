#!/usr/bin/env bash
# `make test-slurm`: the demo study on a real one-node SLURM cluster, typed as a user types it,
# against a local run of the same study on the same machine.
#
# 1. starts a cluster with a `cpu` and a `gpu` partition (tests/slurm/cluster.sh; installs
#    Debian slurm-wlm and munge when missing);
# 2. copies this checkout twice (tracked and untracked, not ignored, files: a fresh clone plus
#    your edits) and runs, from each copy's root, one after the other,
#      snakemake --cores 2 --configfile config/demo.yaml                          (local)
#      snakemake --profile slurm --configfile config/demo.yaml --sdm env-modules  (SLURM)
#    `--sdm env-modules` is the documented override for a cluster without conda;
# 3. checks that metrics.csv and every model file are byte-identical between the two runs, and
#    that no job of the CPU demo asked SLURM for a GPU (every sbatch call is logged by an
#    `sbatch` placed first on PATH, which runs the real one);
# 4. runs one embedding job with `--config device=auto`: it must go to the gpu partition with a
#    GPU and, as the fake GPU is invisible to torch, stop with one clear line (and its one
#    retry must ask for twice the memory);
# 5. prints both wall times and their ratio, and stops the daemons it started (by PID).
# Needs root. KEEP=1 keeps the working folder (logs, results) for inspection.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV_BIN=${VENV_BIN:-$ROOT/.venv/bin}
MAX_RATIO=1.5
WORK=
STATE=

fail() { echo "test-slurm: FAILED: $*" >&2; exit 1; }

cleanup() {
  [ -n "$STATE" ] && "$ROOT/tests/slurm/cluster.sh" down "$STATE"
  if [ "${KEEP:-0}" = 1 ]; then echo "test-slurm: kept $WORK"; else rm -rf "$WORK"; fi
}

copy_checkout() {  # what `git clone` gives, plus uncommitted and untracked (not ignored) files
  mkdir -p "$1"
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
    | (cd "$ROOT" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$1"
}

timed() {  # timed VAR LOG COMMAND...: run COMMAND with its output in LOG; VAR = wall seconds
  local var=$1 log=$2 start rc=0
  shift 2
  start=$(date +%s%N)
  "$@" >"$log" 2>&1 || rc=$?
  printf -v "$var" '%d' $((($(date +%s%N) - start + 500000000) / 1000000000))
  return $rc
}

main() {  # one function: bash reads all of it before running any of it
  [ "$(id -u)" = 0 ] || { echo "test-slurm: needs root (apt, SLURM daemons, /etc/slurm)" >&2; exit 2; }
  [ -x "$VENV_BIN/snakemake" ] || { echo "test-slurm: no $VENV_BIN/snakemake: run make install" >&2; exit 2; }
  git -C "$ROOT" rev-parse 2>/dev/null || { echo "test-slurm: $ROOT is not a git checkout" >&2; exit 2; }
  export PATH="$VENV_BIN:$PATH"

  WORK=$(mktemp -d /tmp/l2h-test-slurm.XXXXXX)
  chmod 755 "$WORK"  # munged (user munge) keeps its pid file inside
  trap cleanup EXIT
  STATE=$WORK/cluster
  "$ROOT/tests/slurm/cluster.sh" up "$STATE"

  # every sbatch call, as the plugin makes it, goes to sbatch.log
  mkdir -p "$WORK/bin"
  printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\nexec /usr/bin/sbatch "$@"\n' \
    "$WORK/sbatch.log" >"$WORK/bin/sbatch"
  chmod +x "$WORK/bin/sbatch"
  : >"$WORK/sbatch.log"
  local logged_path="$WORK/bin:$PATH"

  copy_checkout "$WORK/local"
  copy_checkout "$WORK/slurm"

  local local_s slurm_s
  echo "test-slurm: local run: snakemake --cores 2 --configfile config/demo.yaml"
  timed local_s "$WORK/local.log" env -C "$WORK/local" \
    snakemake --cores 2 --configfile config/demo.yaml \
    || { tail -40 "$WORK/local.log"; fail "local run"; }
  local local_load slurm_load
  local_load=$(cut -d' ' -f2 /proc/loadavg)  # 5-minute load average: other processes too
  echo "test-slurm: local run took ${local_s} s (load ${local_load})"

  echo "test-slurm: SLURM run: snakemake --profile slurm --configfile config/demo.yaml --sdm env-modules"
  timed slurm_s "$WORK/slurm.log" env -C "$WORK/slurm" PATH="$logged_path" timeout -s INT 3600 \
    snakemake --profile slurm --configfile config/demo.yaml --sdm env-modules \
    || { tail -40 "$WORK/slurm.log"; fail "SLURM run"; }
  slurm_load=$(cut -d' ' -f2 /proc/loadavg)
  echo "test-slurm: SLURM run took ${slurm_s} s (load ${slurm_load})"

  # the same numbers and the same model files
  cmp "$WORK/local/results/demo/metrics.csv" "$WORK/slurm/results/demo/metrics.csv" \
    || fail "metrics.csv differs between the local and the SLURM run"
  local model n_models=0
  while IFS= read -r model; do
    cmp "$WORK/local/$model" "$WORK/slurm/$model" || fail "$model differs"
    n_models=$((n_models + 1))
  done < <(cd "$WORK/local" && find results/demo/models -name '*.model' | sort)
  [ "$n_models" -gt 0 ] || fail "no model files"

  # no GPU for the CPU demo: every job went to the cpu partition without --gpus / --gres
  local n_jobs n_gpu n_cpu
  n_jobs=$(grep -c . "$WORK/sbatch.log" || true)
  n_gpu=$(grep -c -E -- '--gpus|--gres' "$WORK/sbatch.log" || true)
  n_cpu=$(grep -c -E -- ' -p cpu ' "$WORK/sbatch.log" || true)
  [ "$n_jobs" -gt 0 ] || fail "no sbatch call was logged"
  [ "$n_gpu" = 0 ] || fail "$n_gpu sbatch calls of the CPU demo ask for a GPU"
  [ "$n_cpu" = "$n_jobs" ] || fail "only $n_cpu of $n_jobs sbatch calls go to the cpu partition"
  cp "$WORK/sbatch.log" "$WORK/sbatch.demo.log"

  # device: auto on a cluster with a GPU: the embedding job asks the gpu partition for one, and
  # stops with one line, as torch cannot see the (fake) GPU
  echo "test-slurm: GPU check: one embedding job of the demo with --config device=auto"
  : >"$WORK/sbatch.log"
  local target=results/gpucheck/embeddings/fashion_mnist/efficientnet_lite0/test.npy
  if env -C "$WORK/slurm" PATH="$logged_path" timeout -s INT 900 snakemake --profile slurm \
    --configfile config/demo.yaml --sdm env-modules --config study=gpucheck device=auto \
    -- "$target" >"$WORK/gpucheck.log" 2>&1; then
    fail "the embedding job given a fake GPU did not fail"
  fi
  grep -- ' -p gpu ' "$WORK/sbatch.log" | grep -- '--gpus=1' | grep -q 'rule_embed' \
    || { cat "$WORK/sbatch.log"; fail "the embedding job did not ask the gpu partition for a GPU"; }
  if grep -E -- '--gpus|--gres| -p gpu ' "$WORK/sbatch.log" | grep -v -q 'rule_embed'; then
    fail "a job other than the embedding asked for a GPU"
  fi
  # the profile retries a failed job once, with twice the memory (attempt 2)
  local mems
  mems=$(grep 'rule_embed' "$WORK/sbatch.log" | grep -o -- '--mem [0-9]*' | awk '{print $2}' | paste -sd' ')
  awk -v m="$mems" 'BEGIN { n = split(m, a, " "); exit !(n == 2 && a[2] == 2 * a[1]) }' \
    || fail "the retry of the embedding job did not ask for twice the memory (--mem: $mems)"
  local gpu_line
  gpu_line=$(grep -h -o 'l2h: rule embed: .*' \
    "$WORK/slurm/results/gpucheck/logs/embed/fashion_mnist/efficientnet_lite0/test.log" \
    | head -1 || true)
  [ -n "$gpu_line" ] || { tail -30 "$WORK/gpucheck.log"; fail "no clear error line from the job"; }

  local ratio verdict
  ratio=$(awk -v s="$slurm_s" -v l="$local_s" 'BEGIN { printf "%.2f", s / l }')
  verdict=$(awk -v r="$ratio" -v m="$MAX_RATIO" 'BEGIN { print (r <= m ? "met" : "NOT met") }')
  cat <<EOF

test-slurm: passed
  local run:  ${local_s} s  (snakemake --cores 2 --configfile config/demo.yaml)
  SLURM run:  ${slurm_s} s  (snakemake --profile slurm --configfile config/demo.yaml --sdm env-modules)
  ratio:      ${ratio}  (target <= ${MAX_RATIO}: ${verdict}; one run after the other on this
              machine, 5-minute load average ${local_load} and ${slurm_load} at their ends)
  sbatch:     ${n_jobs} calls for the demo, all to the cpu partition, ${n_gpu} with --gpus or --gres
  identical:  metrics.csv and ${n_models} model files
  GPU check:  the device=auto embedding job went to the gpu partition with --gpus=1 and stopped
              (retried once, --mem ${mems// / then }):
              ${gpu_line}
EOF
}

main "$@"
