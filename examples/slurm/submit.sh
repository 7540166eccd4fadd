#!/bin/bash
# Computes a loss surface on a Slurm cluster as a job array plus a merge job.
#
#   MODEL=resnet56 CHECKPOINT=model_300.t7 DATA=cifar10:/data/cifar-10-batches-bin \
#   X=-1:1:51 Y=-1:1:51 OUT=/shared/resnet56-parts SURFACE=/shared/resnet56.parquet \
#   TASKS=16 examples/slurm/submit.sh
#
# OUT and SURFACE must be on storage every node sees. The directions are
# drawn once, here, and every task reads them (DIRECTIONS, default
# $OUT/directions.safetensors; SEED, NORM and IGNORE choose them), so all
# shards use the same u and v. CHANNELS, SIZE and CLASSES shape the model,
# MEAN and STD normalise the data, SAMPLES and SAMPLE_SEED choose it, as the
# flags of the same names do. Prints the merge job's id (and nothing else on
# standard output).
#
# SBATCH_FLAGS go to both jobs (an account, a partition); TASK_FLAGS only to
# the array's tasks: the CPUs (--cpus-per-task=4 where nodes have fewer than
# surface.sbatch's 8) or GPUs each task gets. On GPU nodes ask for one GPU
# per task, e.g. TASK_FLAGS="--gres=gpu:1": each task computes on the GPU it
# is given (DEVICE, default auto: the GPU when one works, else the CPU; cpu
# or cuda to insist). A task given several GPUs (--gres=gpu:8, fewer TASKS)
# uses them all with DEVICE=cuda:all: its points are dealt among them. The
# CUDA libraries are found in a Python environment with PyTorch on PATH, or
# in LANDSCAPE_CUDA_PATH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${LANDSCAPE:=landscape}" "${TASKS:=16}" "${SEED:=123}" "${NORM:=filter}" "${IGNORE:=biasbn}"
: "${DIRECTIONS:=$OUT/directions.safetensors}"
mkdir -p "$OUT"
model_flags=()
[ -n "${CHANNELS:-}" ] && model_flags+=(--channels "$CHANNELS")
[ -n "${SIZE:-}" ] && model_flags+=(--size "$SIZE")
[ -n "${CLASSES:-}" ] && model_flags+=(--classes "$CLASSES")
"$LANDSCAPE" directions --model "$MODEL" --checkpoint "$CHECKPOINT" "${model_flags[@]}" \
  --seed "$SEED" --norm "$NORM" --ignore "$IGNORE" --out "$DIRECTIONS" >&2
export LANDSCAPE MODEL CHECKPOINT DATA DIRECTIONS X Y OUT SURFACE SPLIT SAMPLES SAMPLE_SEED BATCH DEVICE \
  TASKS CHANNELS SIZE CLASSES MEAN STD
array=$(sbatch --parsable --array="0-$((TASKS - 1))" ${SBATCH_FLAGS:-} ${TASK_FLAGS:-} "$here/surface.sbatch")
# afterany, not afterok: after a failed task the merge still runs and says
# what is missing; afterok would leave it pending for ever, even once the
# task is requeued and done.
sbatch --parsable --dependency="afterany:${array%%;*}" ${SBATCH_FLAGS:-} "$here/merge.sbatch"
