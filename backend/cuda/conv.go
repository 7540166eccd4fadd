//go:build linux && !android

package cuda

import (
	"fmt"
)

// cuDNN enumerations (cudnn_graph.h, cudnn_cnn.h).
const (
	cudnnTensorNCHW         = 0
	cudnnDataFloat          = 0
	cudnnCrossCorrelation   = 1
	cudnnDefaultMath        = 0 // lets FP32 convolutions use TF32 tensor cores
	cudnnTensorOpMath       = 1
	cudnnTensorOpConversion = 2
	cudnnFMAMath            = 3 // FP32 arithmetic only
	cudnnDeterministic      = 1
	cudnnFwdAlgoCount       = 8
	cudnnBwdAlgoCount       = 8 // room for either backward ranking (6 and 7 algorithms)
)

// convShape is what a convolution's descriptors and algorithm depend on.
type convShape struct {
	n, c, h, w int // input
	k          int // output channels
	kh, kw     int // kernel
	sh, sw     int // strides
	ph, pw     int // zero padding, on both sides
	dh, dw     int // dilations
	groups     int
	oh, ow     int
}

// squareConv returns the shape of a convolution of the engines' ops on a
// batch of n inputs of shape in (C, H, W): k output channels of shape oh x
// ow, a square kernel, equal strides and padding, no dilation.
func squareConv(n int, in []int, k, size, stride, pad, groups, oh, ow int) convShape {
	return convShape{n: n, c: in[0], h: in[1], w: in[2], k: k, kh: size, kw: size, sh: stride, sw: stride, ph: pad, pw: pad,
		dh: 1, dw: 1, groups: groups, oh: oh, ow: ow}
}

// convDesc holds the cuDNN descriptors of one convolution shape and the
// algorithm chosen for it.
type convDesc struct {
	x, w, conv, y uintptr
	algo          int32
	workspace     uintptr // bytes

	// The backward products' algorithms and workspaces, chosen by
	// chooseBackward for the differentiator.
	bwdData, bwdFilter                   int32
	bwdDataWorkspace, bwdFilterWorkspace uintptr
}

// convDesc returns the descriptors of shape s and the algorithm for it,
// chosen once: the first deterministic one (FP32 only unless tf32) in
// cuDNN's heuristic ranking, which is the same on every run with the same
// GPU and library, so that every shard and every resumed run computes a
// point to the same bits; or, with benchmark, the fastest one
// cudnnFindConvolutionForwardAlgorithm measures, as
// torch.backends.cudnn.benchmark does, which can differ from run to run.
func (e *Evaluator) convDesc(s convShape) (*convDesc, error) {
	if d, ok := e.convs[s]; ok {
		return d, nil
	}
	d := &convDesc{}
	e.convs[s] = d // destroyed by Close even if this fails half-way
	return d, d.init(e.a, e.g, s, e.tf32, e.benchmark)
}

// init creates the descriptors of shape s and chooses the forward
// algorithm (see [Evaluator.convDesc]).
func (d *convDesc) init(a *api, g *gpu, s convShape, tf32, benchmark bool) error {
	math := int32(cudnnFMAMath)
	if tf32 {
		math = cudnnDefaultMath
	}
	err := first(
		a.cudnn("cudnnCreateTensorDescriptor", a.cudnnCreateTensorDescriptor(&d.x)),
		a.cudnn("cudnnCreateTensorDescriptor", a.cudnnCreateTensorDescriptor(&d.y)),
		a.cudnn("cudnnCreateFilterDescriptor", a.cudnnCreateFilterDescriptor(&d.w)),
		a.cudnn("cudnnCreateConvolutionDescriptor", a.cudnnCreateConvolutionDescriptor(&d.conv)),
	)
	if err != nil {
		return err
	}
	err = first(
		a.cudnn("cudnnSetTensor4dDescriptor x", a.cudnnSetTensor4dDescriptor(d.x, cudnnTensorNCHW, cudnnDataFloat, int32(s.n), int32(s.c), int32(s.h), int32(s.w))),
		a.cudnn("cudnnSetFilter4dDescriptor", a.cudnnSetFilter4dDescriptor(d.w, cudnnDataFloat, cudnnTensorNCHW, int32(s.k), int32(s.c/s.groups), int32(s.kh), int32(s.kw))),
		a.cudnn("cudnnSetConvolution2dDescriptor", a.cudnnSetConvolution2dDescriptor(d.conv, int32(s.ph), int32(s.pw), int32(s.sh), int32(s.sw), int32(s.dh), int32(s.dw), cudnnCrossCorrelation, cudnnDataFloat)),
		a.cudnn("cudnnSetConvolutionGroupCount", a.cudnnSetConvolutionGroupCount(d.conv, int32(s.groups))),
		a.cudnn("cudnnSetConvolutionMathType", a.cudnnSetConvolutionMathType(d.conv, math)),
		a.cudnn("cudnnSetTensor4dDescriptor y", a.cudnnSetTensor4dDescriptor(d.y, cudnnTensorNCHW, cudnnDataFloat, int32(s.n), int32(s.k), int32(s.oh), int32(s.ow))),
	)
	if err != nil {
		return err
	}
	var n, c, h, w int32
	if err := a.cudnn("cudnnGetConvolution2dForwardOutputDim", a.cudnnGetConvolution2dForwardOutputDim(d.conv, d.x, d.w, &n, &c, &h, &w)); err != nil {
		return err
	}
	if int(n) != s.n || int(c) != s.k || int(h) != s.oh || int(w) != s.ow {
		return fmt.Errorf("cuda: cuDNN gives a %dx%dx%dx%d output for convolution %+v", n, c, h, w, s)
	}
	var perf [cudnnFwdAlgoCount]convAlgoPerf
	var got int32
	choose, call := a.cudnnGetConvolutionForwardAlgorithm, "cudnnGetConvolutionForwardAlgorithm_v7"
	if benchmark {
		choose, call = a.cudnnFindConvolutionForwardAlgorithm, "cudnnFindConvolutionForwardAlgorithm"
	}
	if err := a.cudnn(call, choose(g.dnn, d.x, d.w, d.conv, d.y, cudnnFwdAlgoCount, &got, &perf[0])); err != nil {
		return err
	}
	pick := pickAlgo(perf[:got], tf32, true)
	if pick < 0 {
		pick = pickAlgo(perf[:got], tf32, false)
	}
	if pick < 0 {
		return fmt.Errorf("cuda: cuDNN has no algorithm for convolution %+v (%d tried)", s, got)
	}
	d.algo = perf[pick].Algo
	if tf32 { // the math the chosen algorithm was ranked with
		if err := a.cudnn("cudnnSetConvolutionMathType", a.cudnnSetConvolutionMathType(d.conv, perf[pick].MathType)); err != nil {
			return err
		}
	}
	if err := a.cudnn("cudnnGetConvolutionForwardWorkspaceSize", a.cudnnGetConvolutionForwardWorkspaceSize(g.dnn, d.x, d.w, d.conv, d.y, d.algo, &d.workspace)); err != nil {
		return err
	}
	return nil
}

// pickAlgo returns the index of the first algorithm in perf, cuDNN's
// ranking, that ran, computes in FP32 (or TF32 where tf32 allows it) and,
// if deterministic, gives the same bits on every run; -1 if none does.
func pickAlgo(perf []convAlgoPerf, tf32, deterministic bool) int {
	for i, r := range perf {
		fp32 := r.MathType != cudnnTensorOpMath && r.MathType != cudnnTensorOpConversion
		if r.Status == 0 && (fp32 || tf32) && (!deterministic || r.Determinism == cudnnDeterministic) {
			return i
		}
	}
	return -1
}

// chooseBackward chooses the algorithms of the convolution's two backward
// products, the input gradient (cudnnConvolutionBackwardData) and the
// weights' (cudnnConvolutionBackwardFilter): the first deterministic FP32
// one in cuDNN's heuristic ranking of each, so that derivatives, like
// surfaces, are the same bits on every run. (cuDNN's fastest weight
// gradients add in atomics, in whatever order the threads arrive.)
func (d *convDesc) chooseBackward(a *api, g *gpu, s convShape) error {
	var perf [cudnnBwdAlgoCount]convAlgoPerf
	var got int32
	if err := a.cudnn("cudnnGetConvolutionBackwardDataAlgorithm_v7",
		a.cudnnGetConvolutionBackwardDataAlgorithm(g.dnn, d.w, d.y, d.conv, d.x, cudnnBwdAlgoCount, &got, &perf[0])); err != nil {
		return err
	}
	i := pickAlgo(perf[:got], false, true)
	if i < 0 {
		return fmt.Errorf("cuda: cuDNN has no deterministic FP32 algorithm for the input gradient of convolution %+v (%d tried)", s, got)
	}
	d.bwdData = perf[i].Algo
	if err := a.cudnn("cudnnGetConvolutionBackwardDataWorkspaceSize",
		a.cudnnGetConvolutionBackwardDataWorkspaceSize(g.dnn, d.w, d.y, d.conv, d.x, d.bwdData, &d.bwdDataWorkspace)); err != nil {
		return err
	}
	if err := a.cudnn("cudnnGetConvolutionBackwardFilterAlgorithm_v7",
		a.cudnnGetConvolutionBackwardFilterAlgorithm(g.dnn, d.x, d.y, d.conv, d.w, cudnnBwdAlgoCount, &got, &perf[0])); err != nil {
		return err
	}
	if i = pickAlgo(perf[:got], false, true); i < 0 {
		return fmt.Errorf("cuda: cuDNN has no deterministic FP32 algorithm for the weight gradient of convolution %+v (%d tried)", s, got)
	}
	d.bwdFilter = perf[i].Algo
	return a.cudnn("cudnnGetConvolutionBackwardFilterWorkspaceSize",
		a.cudnnGetConvolutionBackwardFilterWorkspaceSize(g.dnn, d.x, d.y, d.conv, d.w, d.bwdFilter, &d.bwdFilterWorkspace))
}

// destroy releases the descriptors.
func (d *convDesc) destroy(a *api) {
	if d.x != 0 {
		a.cudnnDestroyTensorDescriptor(d.x)
	}
	if d.y != 0 {
		a.cudnnDestroyTensorDescriptor(d.y)
	}
	if d.w != 0 {
		a.cudnnDestroyFilterDescriptor(d.w)
	}
	if d.conv != 0 {
		a.cudnnDestroyConvolutionDescriptor(d.conv)
	}
}

// first returns the first non-nil error.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
