#!/bin/bash
# `cimsim sweep --slurm` through a real single-node Slurm (slurm-wlm + munge from Debian) started on localhost
# by this script (recipe: docs/sweeps.md), compared byte for byte with the local backend's merged CSV.
# Exits 77 (ctest SKIP_RETURN_CODE) only when Slurm is not installed and cannot be installed (not root, no
# apt-get). If a Slurm cluster already answers here (sinfo), it is used as is and left running.
# Usage: slurm_sweep_test.sh CIMSIM WORKDIR
set -euo pipefail
CIMSIM=$(readlink -f "$1"); W=$2; SRC=$(dirname "$(readlink -f "$0")")
rm -rf "$W"; mkdir -p "$W"; cd "$W"; W=$(pwd -P)
fail() { echo "FAIL: $*" >&2; [ -f /var/log/slurm/slurmctld.log ] && tail -20 /var/log/slurm/slurmctld.log >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

started=0
if ! sinfo -h >/dev/null 2>&1; then
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    [ "$(id -u)" = 0 ] || skip "Slurm is not installed and installing it needs root (scripts/setup.sh installs it)"
    command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 || true
        apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1 ||
          skip "apt-get could not install slurmctld slurmd slurm-client munge"; }
  fi
  [ "$(id -u)" = 0 ] || skip "starting slurmctld/slurmd/munged on localhost needs root"
  H=$(hostname -s)
  getent hosts "$H" >/dev/null || echo "127.0.0.1 $H" >> /etc/hosts
  mkdir -p /etc/slurm /var/log/slurm /var/spool/slurmd
  rm -rf /var/spool/slurmctld; mkdir -p /var/spool/slurmctld
  cat > /etc/slurm/slurm.conf <<EOF
ClusterName=ci
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
CommunicationParameters=NoInAddrAny
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
$(slurmd -C | head -n1) NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
  install -d -o munge -g munge -m 0755 /run/munge
  [ -S /run/munge/munge.socket.2 ] && munge -n >/dev/null 2>&1 || runuser -u munge -- /usr/sbin/munged
  stop() {
    local p m; p=$(cat /run/slurmctld.pid /run/slurmd.pid 2>/dev/null | paste -sd,)
    scontrol shutdown >/dev/null 2>&1 || kill ${p//,/ } 2>/dev/null || true
    for _ in $(seq 100); do ps -p "${p:-0}" >/dev/null || break; sleep 0.1; done
    m=$(cat /run/munge/munged.pid 2>/dev/null) && kill "$m" 2>/dev/null || true
    for _ in $(seq 50); do ps -p "${m:-0}" >/dev/null || break; sleep 0.1; done
  }
  trap stop EXIT
  /usr/sbin/slurmctld; /usr/sbin/slurmd
  started=1
  for _ in $(seq 300); do [ "$(sinfo -h -N -o %T 2>/dev/null)" = idle ] && break; sleep 0.1; done
  [ "$(sinfo -h -N -o %T)" = idle ] || { sinfo -N; fail "the Slurm node did not come up"; }
fi
echo "slurm up (started here: $started)"

cp "$SRC/tiny-run.yaml" spec.yaml
"$CIMSIM" sweep spec.yaml --jobs 2 --out local > local.log 2>&1 || { cat local.log; fail "local sweep"; }
"$CIMSIM" sweep spec.yaml --slurm --out slurm > submit.log 2>&1 || { cat submit.log; fail "submission"; }
cat submit.log
JID=$(sed -n 's/^submitted Slurm job \([0-9]*\):.*/\1/p' submit.log)
[ -n "$JID" ] || fail "no job id"
grep -q '^#SBATCH --array=0-3%2$' slurm/slurm/t4.sbatch || fail "array line"
for _ in $(seq 600); do [ -z "$(squeue -h -j "$JID" 2>/dev/null)" ] && break; sleep 0.2; done
[ -z "$(squeue -h -j "$JID")" ] || fail "job $JID still queued after 120 s"
"$CIMSIM" sweep spec.yaml --status --out slurm > status.log
cat status.log
grep -q "4 points, 4 done, 0 failed" status.log || fail "status"
"$CIMSIM" sweep spec.yaml --collect --out slurm > collect.log || { cat collect.log; fail "collect"; }
cmp local/merged.csv slurm/merged.csv || { diff local/merged.csv slurm/merged.csv; fail "merged CSVs differ"; }
grep -q "\"slurm_job_id\": \"$JID\"" slurm/points/p000-array4x4-seed1/point.json || fail "point not run by Slurm"
# Every array task completed (records stay in slurmctld for MinJobAge).
! scontrol -o show job "$JID" | grep -v 'JobState=COMPLETED' || fail "a task did not complete"
# Resubmitting a finished sweep submits nothing.
"$CIMSIM" sweep spec.yaml --slurm --out slurm | grep -q "nothing to submit" || fail "resubmission"
echo "slurm sweep test: OK (job $JID)"
