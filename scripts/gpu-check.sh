#!/bin/bash
# GPU checks, in two halves, so that the NVIDIA machine needs neither Go nor
# a C compiler:
#
#   scripts/gpu-check.sh build DIR   # anywhere: CGO_ENABLED=0 binaries, packed into DIR/bin.tar.xz
#   scripts/gpu-check.sh run DIR     # on the NVIDIA machine, in the repository root
#
# The binaries are packed with xz (63 MB to 17 MB) because what travels to
# a lent GPU machine, the working tree (47 MB tracked) and the carried
# folder, must stay under 64 MiB together: build into a folder git ignores
# (echo /.gpu/ >>.git/info/exclude; DIR=.gpu) and carry it. 'build' says
# how much would travel.
#
# 'run' needs the NVIDIA driver, the CUDA 13 (or 12) wheels of cuBLAS, cuDNN 9
# and NVRTC (those PyTorch installs), and python3 with a CUDA PyTorch, numpy
# and pyarrow. It runs, with LANDSCAPE_REQUIRE_GPU=1 so that nothing is
# skipped for want of a GPU:
#   1. 'landscape devices';
#   2. the cuda package's tests: every step of small networks of every op
#      kind against the plan run on the host; the differentiator's
#      gradients and Hessian-vector products against PyTorch's autograd on
#      every zoo fixture, and against the CPU's over several chunks;
#      training with every optimizer against PyTorch's training fixtures;
#      the ONNX graph interpreter against the CPU's reference evaluator and
#      against PyTorch on convnext_tiny, vit_b_16 and the causal LM;
#   3. the backend conformance suite: the CUDA backend against PyTorch on the
#      zoo fixtures, on all 29 architectures (synthetic weights), on the
#      torchvision exports (testdata/torchvision: the engines' and, for
#      convnext_tiny and vit_b_16, the graph interpreter's) and the causal
#      LM, against
#      the CPU backend over a grid, determinism, TF32; 'landscape hessian'
#      on the GPU against PyTorch's eigenvalues and trace;
#   4. bench/gpu.py: the CLI against PyTorch's reference loop on ResNet-56,
#      10,000 samples of 3x32x32 (BENCH_ARGS adds or overrides options);
#   5. bench/hessian.py --device cuda: Hessian-vector products per second
#      against PyTorch's double backward on the GPU, resnet20 and resnet56,
#      and the projected time of a 51x51 curvature map;
#   6. (only when STEPS names it) bench/gpu.py on torchvision's vit_b_16:
#      the graph interpreter against PyTorch;
#   7. (only when STEPS names it) bench/gpu.py --profile on vit_b_16: where
#      a point's GPU time goes, the graph interpreter's by operator and by
#      node, and PyTorch's by kernel;
#   8. (only when STEPS names it) bench/gpu_ops.py: PyTorch's time for the
#      same batch's operations one by one (linear layers in both weight
#      layouts, bias additions, GELU, layer norm, attention's products, a
#      transpose), to read step 7's nodes against.
# A lent machine gives 15 minutes in all and 10 a call: run the checks
# (STEPS="1 2 3", STEP_TIMEOUT=250) in one call and the benchmarks
# (STEPS="4 5") in a second, as the time left allows. STEPS selects the
# steps by number (default all).
# FIXTURES, a regular expression, limits step 3 to some zoo fixtures (the
# GPU machine may get a trimmed copy of testdata). Each step runs even if
# an earlier one failed, for at most STEP_TIMEOUT seconds (420); its whole
# output is in LOGS (default: $OUT, else DIR)/gpu-check-N.log. The exit
# status is that of the first failure.
set -u
mode=${1:-}
dir=${2:-}
if [ -z "$mode" ] || [ -z "$dir" ]; then
	echo "usage: $0 build|run DIR" >&2
	exit 2
fi
cd "$(dirname "$0")/.."
case $mode in
build)
	mkdir -p "$dir"
	bin=$(mktemp -d)
	trap 'rm -rf "$bin"' EXIT
	export CGO_ENABLED=0
	# Without symbol tables and DWARF: a third smaller to carry; stack
	# traces keep their function names.
	go build -trimpath -ldflags='-s -w' -o "$bin/landscape" ./cmd/landscape &&
		go test -c -trimpath -ldflags='-s -w' -o "$bin/cuda.test" ./backend/cuda &&
		go test -c -trimpath -ldflags='-s -w' -o "$bin/landscape.test" ./landscape &&
		tar -C "$bin" -cf - landscape cuda.test landscape.test | xz -9 -T0 >"$dir/bin.tar.xz" || exit
	tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
	packed=$(du -b "$dir/bin.tar.xz" | cut -f1)
	echo "travels: working tree $((tree >> 20)) MiB + $dir/bin.tar.xz $((packed >> 20)) MiB = $(((tree + packed) >> 20)) MiB of 64"
	[ $((tree + packed)) -lt $((64 << 20)) ] || { echo "over the 64 MiB a lent machine takes" >&2; exit 1; }
	;;
run)
	dir=$(cd "$dir" && pwd)
	# Python's tarfile reads xz wherever python3 runs.
	if [ -f "$dir/bin.tar.xz" ]; then
		unpacked=$(mktemp -d)
		python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$dir/bin.tar.xz" "$unpacked" || exit
		chmod +x "$unpacked"/*
		dir=$unpacked
	fi
	export LANDSCAPE_REQUIRE_GPU=1
	# Each step's whole output goes to LOGS (OUT where the device tool
	# sets it, so the logs come back), bounded by STEP_TIMEOUT seconds, so
	# that one hung step cannot spend a scarce GPU session; the terminal
	# gets the lines that matter (failures, skips, logs, tables) and a
	# summary at the end.
	logs=${LOGS:-${OUT:-$dir}}
	mkdir -p "$logs"
	status=0 n=0 summary=""
	step() {
		n=$((n + 1))
		case " ${STEPS:-1 2 3 4 5} " in *" $n "*) ;; *) return ;; esac
		local log="$logs/gpu-check-$n.log" start=$SECONDS rc=0
		echo "=== gpu-check $n: $*"
		timeout "${STEP_TIMEOUT:-420}" "$@" >"$log" 2>&1 || rc=$?
		grep -E -v '^(=== (RUN|PAUSE|CONT|NAME)|\s*--- PASS)' "$log" | tail -n 150
		local what="ok"
		if [ $rc -ne 0 ]; then
			what="FAILED ($rc$([ $rc -eq 124 ] && echo ", timed out"))"
			[ $status -ne 0 ] || status=$rc
		fi
		summary="$summary$(printf '%-2d %-24s %4ds  %s' "$n" "$what" $((SECONDS - start)) "$*" | cut -c1-160)"$'\n'
	}
	nvidia-smi -L 2>/dev/null
	step "$dir/landscape" devices
	step bash -c "cd backend/cuda && '$dir/cuda.test' -test.v -test.timeout 6m -test.run 'TestProbe|TestGPU|TestPlanFuses'"
	fx=${FIXTURES:-.*}
	step bash -c "cd landscape && '$dir/landscape.test' -test.v -test.timeout 6m -test.run 'TestGPU|TestLossMatchesPyTorch/cuda/$fx/|TestEveryZooModelMatchesPyTorch/cuda|TestTorchvisionModelsMatchPyTorch/.*/cuda|TestLanguageModelMatchesPyTorch/own_weights/cuda|TestHessianMatchesPyTorch/cuda'"
	# shellcheck disable=SC2086
	step python3 bench/gpu.py --bin "$dir/landscape" ${BENCH_ARGS:-}
	step python3 bench/hessian.py --device cuda --test-bin "$dir/cuda.test" --rounds 3
	step python3 bench/gpu.py --bin "$dir/landscape" --model tv:vit_b_16 --samples 5000 --grid 3 --rounds 1
	step python3 bench/gpu.py --bin "$dir/landscape" --model tv:vit_b_16 --samples 5000 --grid 2 --profile
	step python3 bench/gpu_ops.py
	echo "=== gpu-check summary (logs in $logs)"
	printf '%s' "$summary"
	exit $status
	;;
*)
	echo "usage: $0 build|run DIR" >&2
	exit 2
	;;
esac
