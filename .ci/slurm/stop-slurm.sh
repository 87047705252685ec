#!/usr/bin/env bash
# Stop the daemons that .ci/slurm/setup-slurm.sh started, through their pid files, node first and
# munge last, and remove the pid files (a stale /run/slurmctld.pid breaks a later package purge).
# Waits (bounded) for each to exit. Safe to run when nothing is running.
set -uo pipefail
for f in /run/slurmd.pid /run/slurmctld.pid /run/slurmdbd.pid /run/mysqld/mysqld.pid \
  /run/munge/munged.pid; do
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  name=$(basename "$f" .pid)
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      echo "stop-slurm.sh: killed $name (pid $pid) after 10 s"
    else
      echo "stop-slurm.sh: stopped $name (pid $pid)"
    fi
  fi
  rm -f "$f"
done
exit 0
