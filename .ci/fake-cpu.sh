#!/usr/bin/env bash
# Run a command as if this machine had another CPU, to check that the tests do not depend on the
# CPU that measured the committed timings (data/raw/timings/cpu-amd-epyc-*): device ids are built
# from /proc/cpuinfo's "model name" (greenflops.timing.device.cpu_model_name), so this replaces
# that line in a private mount namespace; nothing outside the command sees it. Needs root.
#
#   bash .ci/fake-cpu.sh "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz" env CI=true bash .ci/run
#
# SLURM jobs must see the same CPU as the login process: stop the test cluster first
# (.ci/slurm/stop-slurm.sh), so that .ci/run starts its daemons inside the namespace.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 'CPU model name' command [args...]" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "fake-cpu.sh: must run as root (mount namespace)" >&2
  exit 1
fi
if pgrep -x slurmd >/dev/null; then
  echo "fake-cpu.sh: slurmd runs outside the namespace (its jobs would see the real CPU);" \
    "stop it first: bash .ci/slurm/stop-slurm.sh" >&2
  exit 1
fi
export FAKE_CPU_NAME=$1
shift
exec unshare --mount --propagation private bash -c '
  set -euo pipefail
  fake=$(mktemp)
  awk -v name="$FAKE_CPU_NAME" "/^model name/ {print \"model name\t: \" name; next} {print}" \
    /proc/cpuinfo >"$fake"
  mount --bind "$fake" /proc/cpuinfo
  echo "fake-cpu.sh: $(grep -m1 "^model name" /proc/cpuinfo)" >&2
  exec "$@"' fake-cpu "$@"
