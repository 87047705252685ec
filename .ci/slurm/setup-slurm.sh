#!/usr/bin/env bash
# Start a single-node SLURM 22.05 test cluster on Debian 12, as root, without systemd, so that CI
# can run the workflow through `snakemake --executor slurm` (tests/test_slurm.py).
#
#   - munged, slurmctld and slurmd, plus slurmdbd and MariaDB: the SLURM executor plugin asks
#     `sacct` for job states, and sacct needs the accounting daemon.
#   - this machine as the only node, with the memory `slurmd -C` finds and SLURM_CI_CPUS CPU slots
#     (default: twice the cores; jobs mostly wait on polling, so this halves CI time), in two
#     partitions: `debug` (the default, for the analysis jobs) and `gpu` (for the timing jobs);
#   - one fake GPU of model `fake` (GRES gpu:fake:1 backed by /dev/null), so that jobs asking for
#     `--gpus=1` or `--gpus=fake:1` are schedulable; inside them CUDA_VISIBLE_DEVICES=0, but there
#     is no CUDA device (the CI sweeps run on the CPU).
#
# Every daemon writes a pid file under /run; .ci/slurm/stop-slurm.sh stops them through those.
# Idempotent: daemons already running are kept (and not reconfigured).
# Recipe and pitfalls: /work/shared/notes/slurm-single-node.md (the project's feasibility notes).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" != 0 ]; then
  echo "setup-slurm.sh: must run as root" >&2
  exit 1
fi

# Show the daemons' logs when any step fails, so that CI says why.
on_error() {
  echo "setup-slurm.sh: FAILED (line $1); daemon logs follow" >&2
  for log in /var/log/slurm/*.log /var/log/slurm/mariadb.out; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 30 "$log" >&2; }
  done
  sinfo -N -l >&2 2>&1 || true
}
trap 'on_error $LINENO' ERR

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.5 s, fail after SECONDS.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local i
  for i in $(seq $((seconds * 2))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "setup-slurm.sh: timed out after ${seconds}s waiting for $what" >&2
  return 1
}

# 0. packages (Debian 12: SLURM 22.05, munge 0.5, MariaDB 10.11). policy-rc.d / no systemd:
#    apt starts nothing, every daemon is started by hand below.
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  munge slurmctld slurmd slurm-client slurmdbd mariadb-server >/dev/null
HOST=$(hostname -s)

# 1. munge: authentication between the SLURM daemons and clients. munged must run as `munge`.
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --force
  chown munge:munge /etc/munge/munge.key
  chmod 600 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 755 /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
wait_for 15 munged sh -c 'munge -n | unmunge'

# 2. slurm.conf: this machine is the controller and the only node (NodeAddr pinned to loopback);
#    its memory comes from `slurmd -C`, so jobs asking for more are refused, not left pending.
install -d -o slurm -g slurm /var/lib/slurm/slurmctld /var/log/slurm
install -d /var/spool/slurmd
MEM=$(slurmd -C | head -1 | grep -o 'RealMemory=[0-9]*') # from the hardware
CPUS=${SLURM_CI_CPUS:-$((2 * $(nproc)))}
cat >/etc/slurm/slurm.conf <<CONF
# Written by greenflops .ci/slurm/setup-slurm.sh: single-node test cluster.
ClusterName=ci
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu,gres/gpu:fake
JobAcctGatherType=jobacct_gather/linux
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
Waittime=0
GresTypes=gpu
DefMemPerCPU=1000
# CPUs may exceed the cores (config_overrides): CI jobs are short and mostly wait.
SlurmdParameters=config_overrides
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} ${MEM} Gres=gpu:fake:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=ALL Default=NO MaxTime=INFINITE State=UP
CONF
# The fake GPU: `Count=1` without File= reports 0 GPUs (node INVAL); File=/dev/null works.
echo "NodeName=${HOST} Name=gpu Type=fake File=/dev/null" >/etc/slurm/gres.conf

# 3. accounting: MariaDB + slurmdbd, and the cluster registered in it (then sacct works).
install -d -o mysql -g mysql /run/mysqld
if ! mariadb-admin ping >/dev/null 2>&1; then
  # mariadbd does not fork; it writes /run/mysqld/mysqld.pid itself (Debian's server config).
  nohup /usr/sbin/mariadbd --user=mysql >/var/log/slurm/mariadb.out 2>&1 &
  wait_for 30 MariaDB mariadb-admin ping
fi
mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
  CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmpw';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
cat >/etc/slurm/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmpw
StorageLoc=slurm_acct_db
CONF
chown slurm:slurm /etc/slurm/slurmdbd.conf
chmod 600 /etc/slurm/slurmdbd.conf
pgrep -x slurmdbd >/dev/null || /usr/sbin/slurmdbd
wait_for 30 slurmdbd sacctmgr -n list cluster
sacctmgr -n list cluster format=cluster | grep -qw ci || sacctmgr -i add cluster ci >/dev/null

# 4. controller and node daemon (both daemonize and write their pid files).
pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
wait_for 30 "node ${HOST} idle" sh -c "sinfo -h -n ${HOST} -o %T | grep -qx idle"

# 5. smoke test: a plain job and a one-GPU job run (bounded), and sacct sees them.
timeout 60 srun -t 1 hostname >/dev/null
gpus=$(timeout 60 srun -t 1 -p gpu --gpus=fake:1 printenv CUDA_VISIBLE_DEVICES)
[ "$gpus" = 0 ] || { echo "setup-slurm.sh: --gpus=fake:1 job saw CUDA_VISIBLE_DEVICES='$gpus'" >&2; exit 1; }
wait_for 15 "sacct to record the GPU job" sh -c 'sacct -n -X -P -o AllocTRES | grep -q gres/gpu=1'
sinfo -o "%P %D %T %c %m %G"
echo "setup-slurm.sh: single-node SLURM cluster up (partitions debug + gpu, GPU gpu:fake:1, sacct on)"
