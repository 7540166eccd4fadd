#!/usr/bin/env bash
# Integration test on a real Slurm cluster: starts a single-node cluster on
# this machine (Debian's slurm-wlm and munge, as root; see
# shared/research/slurm.md), submits examples/slurm/submit.sh with a 4-task
# array and the dependent merge job, and checks the merged surface equals a
# single-process run bit for bit (read back with DuckDB). Stops the daemons
# when done.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ "$(id -u)" != 0 ]; then echo "slurm-test: needs root to run slurmctld/slurmd" >&2; exit 1; fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

work=$(mktemp -d /tmp/landscape-slurm.XXXXXX)
chmod 755 "$work"
cleanup() {
  scontrol shutdown >/dev/null 2>&1 || true
  sleep 1
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  [ -n "${munged_started:-}" ] && pkill -x munged 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  mkdir -p /etc/munge /var/log/munge /run/munge /var/lib/munge
  [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown -R munge:munge /etc/munge /var/log/munge /run/munge /var/lib/munge
  chmod 400 /etc/munge/munge.key
  munged --force
  munged_started=1
  sleep 1
  munge -n | unmunge | grep -q "STATUS: *Success"
fi

# slurm
host=$(hostname -s)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=local
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
NodeName=$host CPUs=$(nproc) RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
pkill -x slurmctld 2>/dev/null || true
pkill -x slurmd 2>/dev/null || true
slurmctld -c
slurmd -c
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -qx idle && break
  sleep 1
done
sinfo

[ -d scripts/duckdb/node_modules ] || (cd scripts/duckdb && npm ci --no-audit --no-fund --loglevel=error)
CGO_ENABLED=0 go build -o "$work/landscape" ./cmd/landscape
export LANDSCAPE="$work/landscape" MODEL=resnet20 CHANNELS=1 SIZE=28
export CHECKPOINT="$root/testdata/zoo/resnet20.pt" DATA="npz:$root/testdata/zoo/resnet20.data.npz"
export X=-1:1:9 Y=-1:1:7 BATCH=8 OUT="$work/parts" SURFACE="$work/merged.parquet" TASKS=4
export SBATCH_FLAGS="--cpus-per-task=1 --chdir=$work"
merge=$(examples/slurm/submit.sh | tail -n 1)
echo "slurm-test: merge job $merge queued after the array"
for _ in $(seq 300); do
  state=$(scontrol show job "$merge" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
  sleep 1
done
squeue || true
cat "$work"/landscape-*.log 2>/dev/null | tail -n 20 || true
[ "$state" = COMPLETED ] || { echo "slurm-test: merge job ended $state" >&2; exit 1; }
ls "$OUT"

# A lost part is computed again by one task submitted alone, as
# surface.sbatch says: shard 2 of $TASKS, not the new array's only task.
rm "$OUT/part-00002-of-00004.parquet"
DIRECTIONS="$OUT/directions.safetensors" sbatch --wait --array=2 $SBATCH_FLAGS examples/slurm/surface.sbatch >/dev/null
[ -f "$OUT/part-00002-of-00004.parquet" ] || { echo "slurm-test: the resubmitted task did not write part 2 of 4:" >&2; ls "$OUT" >&2; exit 1; }
"$LANDSCAPE" merge "$OUT" --out "$SURFACE" # the merge run again replaces its own surface

"$LANDSCAPE" surface --model $MODEL --checkpoint "$CHECKPOINT" --data "$DATA" --directions "$OUT/directions.safetensors" \
  --x=$X --y=$Y --batch-size $BATCH --quiet --out "$work/single.parquet"
node scripts/duckdb/check.mjs "$SURFACE" > "$work/merged.json"
node scripts/duckdb/check.mjs "$work/single.parquet" > "$work/single.json"
node -e '
const fs = require("fs");
const [a, b] = process.argv.slice(1).map(f => JSON.parse(fs.readFileSync(f)));
const ra = JSON.stringify(a.rows), rb = JSON.stringify(b.rows);
if (a.num_rows !== 63 || ra !== rb) { console.error("slurm-test: merged surface differs from the single run"); process.exit(1); }
console.log(`slurm-test: merged surface of ${a.num_rows} points equals the single-process run`);
' "$work/merged.json" "$work/single.json"
