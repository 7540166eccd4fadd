#!/usr/bin/env bash
# Two optimisers' paths on one loss surface: trains ResNet-20 on
# Fashion-MNIST twice from the same start (SGD and Adam, train.py), fits
# the PCA plane of the SGD run, projects the Adam run on that same plane,
# computes the surface around SGD's final model on it, and draws both paths
# over the contours.
#
#   examples/trajectories/run.sh [WORK]       # default WORK=/tmp/landscape-trajectories
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-/tmp/landscape-trajectories}
data=fashion-mnist:/usr/share/datasets/fashion-mnist
mkdir -p "$work"
cd "$root"
[ -d "$work/sgd" ] || /usr/bin/python3 "$here/train.py" --out "$work"
CGO_ENABLED=0 go build -o "$work/landscape" ./cmd/landscape
L="$work/landscape"
final="$work/sgd/model_300.pt"
"$L" trajectory --model resnet20 --checkpoints "$work/sgd/model_*.pt" --final "$final" \
  --data "$data" --split test --samples 500 --quiet --out "$work/SGD"
"$L" trajectory --model resnet20 --checkpoints "$work/adam/model_*.pt" --final "$final" \
  --directions "$work/SGD/directions.safetensors" \
  --data "$data" --split test --samples 500 --quiet --out "$work/Adam"
# A grid that covers both paths, with a margin.
read -r xr yr < <(awk -F, 'FNR > 1 { x[n] = $2; y[n++] = $3 } END {
  xmin = xmax = ymin = ymax = 0
  for (i = 0; i < n; i++) { if (x[i] < xmin) xmin = x[i]; if (x[i] > xmax) xmax = x[i]; if (y[i] < ymin) ymin = y[i]; if (y[i] > ymax) ymax = y[i] }
  mx = 0.15 * (xmax - xmin); my = 0.15 * (ymax - ymin)
  printf "%.3g:%.3g:21 %.3g:%.3g:21\n", xmin - mx, xmax + mx, ymin - my, ymax + my }' "$work/SGD/path.csv" "$work/Adam/path.csv")
"$L" surface --model resnet20 --checkpoint "$final" --data "$data" --split test --samples 500 \
  --directions "$work/SGD/directions.safetensors" --x="$xr" --y="$yr" --quiet --overwrite \
  --out "$work/surface.parquet"
"$L" plot "$work/surface.parquet" --out "$work/fig" --kind contour,filled --format png,pdf \
  --metric test_loss --path "$work/SGD/path.csv,$work/Adam/path.csv"
echo "figures in $work/fig"
