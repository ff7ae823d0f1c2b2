#!/usr/bin/env bash
# A real one-node SLURM cluster for tests, with a `cpu` and a `gpu` partition.
#
#   tests/slurm/cluster.sh up STATE_DIR     install Debian slurm-wlm and munge if missing, write
#                                           slurm.conf, start munged, slurmctld and slurmd
#   tests/slurm/cluster.sh down STATE_DIR   stop the daemons that `up` started (by PID)
#
# The node offers this machine's CPUs, 80% of its memory and one fake GPU (`gpu:fake:1`, device
# file /dev/null): SLURM schedules it and sets CUDA_VISIBLE_DEVICES, but there is no device, so
# only CPU studies can run here. There is no accounting database: the profile polls with squeue,
# and MinJobAge keeps finished jobs visible to it (and to `scontrol show job`) for an hour.
# Needs root (apt, daemons as root, /etc/slurm). No systemd is needed.
set -euo pipefail

usage() { echo "usage: $0 up|down STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
S=$(realpath -m "$2")
CONF_DIR=/etc/slurm   # Debian's default path: the job steps' srun finds the config only there

install_packages() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null \
    && return 0
  echo "cluster.sh: installing Debian packages slurm-wlm munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
}

write_config() {
  local host cpus mem_mb
  host=$(hostname -s)
  cpus=$(nproc)
  mem_mb=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
  mkdir -p "$S/state" "$S/spool" "$S/log"
  cat >"$S/slurm.conf" <<EOF
ClusterName=l2htest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
MinJobAge=3600
ReturnToService=2
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:fake:1 State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
  echo "NodeName=$host Name=gpu Type=fake File=/dev/null" >"$S/gres.conf"
  for name in slurm.conf gres.conf; do
    if [ -e "$CONF_DIR/$name" ] && [ "$(readlink "$CONF_DIR/$name")" != "$S/$name" ]; then
      echo "cluster.sh: $CONF_DIR/$name exists and is not ours; not touching a real cluster" >&2
      exit 1
    fi
    ln -sfn "$S/$name" "$CONF_DIR/$name"
  done
}

start() {
  mkdir -p "$S/munge" /run/munge
  chown munge:munge /run/munge "$S/munge"
  runuser -u munge -- test -w "$S/munge" \
    || { echo "cluster.sh: user munge cannot write to $S/munge (make its parents a+x)" >&2; exit 1; }
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    echo "cluster.sh: using the munged that already runs here"
  else
    runuser -u munge -- /usr/sbin/munged --force --pid-file="$S/munge/munged.pid"
  fi
  /usr/sbin/slurmctld
  /usr/sbin/slurmd
  for _ in $(seq 100); do
    sinfo -h -o %t 2>/dev/null | grep -q idle && { sinfo; return 0; }
    sleep 0.2
  done
  echo "cluster.sh: the node did not become idle; logs in $S/log" >&2
  sinfo >&2 || true
  return 1
}

running() { local state; state=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${state:0:1}" != Z ]; }

stop() {
  # read every pid file first: a daemon removes its own as it exits
  local file pid name pids=()
  for file in slurmd.pid slurmctld.pid munge/munged.pid; do
    pids+=("$(cat "$S/$file" 2>/dev/null || true)")
  done
  for pid in "${pids[@]}"; do
    [ -n "$pid" ] && running "$pid" || continue
    name=$(ps -o comm= -p "$pid")
    kill "$pid"
    for _ in $(seq 50); do running "$pid" || break; sleep 0.1; done
    echo "cluster.sh: stopped $name (pid $pid)"
  done
  for name in slurm.conf gres.conf; do
    if [ "$(readlink "$CONF_DIR/$name" 2>/dev/null)" = "$S/$name" ]; then rm -f "$CONF_DIR/$name"; fi
  done
}

case $action in
  up) install_packages; write_config; start ;;
  down) stop ;;
  *) usage ;;
esac
