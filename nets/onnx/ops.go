package onnx

import "math"

// ops maps the supported operator types to their evaluators. The
// semantics follow the ONNX operator specification at the graph's opset
// where the attribute-or-input form changed (Clip 11, Slice 10, Softmax 13,
// Split, Squeeze, Unsqueeze and ReduceSum 13, other reductions 18).
var ops map[string]opFunc

func init() {
	ops = map[string]opFunc{
		// Convolution, linear algebra and normalisation.
		"Conv":               opConv,
		"ConvTranspose":      opConvTranspose,
		"LRN":                opLRN,
		"Gemm":               opGemm,
		"MatMul":             opMatMul,
		"Einsum":             opEinsum,
		"BatchNormalization": opBatchNorm,
		"LayerNormalization": opLayerNorm,
		"MaxPool":            pool(false),
		"AveragePool":        pool(true),
		"GlobalAveragePool":  globalPool(true),
		"GlobalMaxPool":      globalPool(false),

		// Element-wise arithmetic with numpy broadcasting.
		"Add":  arithOp(addLoops, func(x, y int64) int64 { return x + y }),
		"Sub":  arithOp(subLoops, func(x, y int64) int64 { return x - y }),
		"Mul":  arithOp(mulLoops, func(x, y int64) int64 { return x * y }),
		"Div":  arithOp(divLoops, divInt),
		"Pow":  opPow,
		"Sum":  variadic(func(x, y float32) float32 { return x + y }, func(x, y int64) int64 { return x + y }, false),
		"Mean": variadic(func(x, y float32) float32 { return x + y }, nil, true),
		"Max": variadic(func(x, y float32) float32 {
			if x != x || y != y {
				return float32(math.NaN())
			}
			return max(x, y)
		}, func(x, y int64) int64 { return max(x, y) }, false),
		"Min": variadic(func(x, y float32) float32 {
			if x != x || y != y {
				return float32(math.NaN())
			}
			return min(x, y)
		}, func(x, y int64) int64 { return min(x, y) }, false),

		// Comparisons and logic.
		"Equal":          binaryOp(func(x, y float32) float32 { return b2f(x == y) }, func(x, y int64) int64 { return b2i(x == y) }, true),
		"Less":           binaryOp(func(x, y float32) float32 { return b2f(x < y) }, func(x, y int64) int64 { return b2i(x < y) }, true),
		"LessOrEqual":    binaryOp(func(x, y float32) float32 { return b2f(x <= y) }, func(x, y int64) int64 { return b2i(x <= y) }, true),
		"Greater":        binaryOp(func(x, y float32) float32 { return b2f(x > y) }, func(x, y int64) int64 { return b2i(x > y) }, true),
		"GreaterOrEqual": binaryOp(func(x, y float32) float32 { return b2f(x >= y) }, func(x, y int64) int64 { return b2i(x >= y) }, true),
		"And":            binaryOp(nil, func(x, y int64) int64 { return x & y }, true),
		"Or":             binaryOp(nil, func(x, y int64) int64 { return x | y }, true),
		"Xor":            binaryOp(nil, func(x, y int64) int64 { return x ^ y }, true),
		"Not":            opNot,
		"Where":          opWhere,

		// Activations and other unary functions.
		"Relu":                      unary(relu, nil),
		"Sigmoid":                   unary(sigmoid, nil),
		"Tanh":                      unary(f64(math.Tanh), nil),
		"Erf":                       unary(f64(math.Erf), nil),
		"Sqrt":                      unary(f64(math.Sqrt), nil),
		"Exp":                       unary(f64(math.Exp), nil),
		"Log":                       unary(f64(math.Log), nil),
		"Floor":                     unary(f64(math.Floor), nil),
		"Ceil":                      unary(f64(math.Ceil), nil),
		"Reciprocal":                unary(func(x float32) float32 { return 1 / x }, nil),
		"Neg":                       unary(func(x float32) float32 { return -x }, func(x int64) int64 { return -x }),
		"Abs":                       unary(func(x float32) float32 { return float32(math.Abs(float64(x))) }, func(x int64) int64 { return max(x, -x) }),
		"HardSwish":                 unary(hardSwish, nil),
		"HardSigmoid":               unaryAttr(hardSigmoid),
		"Gelu":                      unaryAttr(gelu),
		"LeakyRelu":                 unaryAttr(leakyRelu),
		"Elu":                       unaryAttr(elu),
		"Clip":                      opClip,
		"Softmax":                   softmax(false),
		"LogSoftmax":                softmax(true),
		"Cast":                      opCast,
		"NegativeLogLikelihoodLoss": opNLLLoss,
		"SoftmaxCrossEntropyLoss":   opSoftmaxCrossEntropy,
		"CastLike":                  opCastLike,
		"PRelu":                     opPRelu,
		"Selu":                      unaryAttr(selu),
		"ThresholdedRelu":           unaryAttr(thresholdedRelu),
		"Softplus":                  unary(softplus, nil),
		"Softsign":                  unary(func(x float32) float32 { return x / (1 + float32(math.Abs(float64(x)))) }, nil),
		"Sign":                      unary(sign, signInt),
		"Sin":                       unary(f64(math.Sin), nil),
		"Cos":                       unary(f64(math.Cos), nil),
		"Tan":                       unary(f64(math.Tan), nil),
		"Asin":                      unary(f64(math.Asin), nil),
		"Acos":                      unary(f64(math.Acos), nil),
		"Atan":                      unary(f64(math.Atan), nil),
		"Sinh":                      unary(f64(math.Sinh), nil),
		"Cosh":                      unary(f64(math.Cosh), nil),
		"Asinh":                     unary(f64(math.Asinh), nil),
		"Acosh":                     unary(f64(math.Acosh), nil),
		"Atanh":                     unary(f64(math.Atanh), nil),
		"IsNaN":                     predicate(isNaN),
		"IsInf":                     predicate(isInf),
		"Mod":                       opMod,

		// Reductions.
		"ReduceMean":      reduce(reduceMean),
		"ReduceSum":       reduce(reduceSum),
		"ReduceMax":       reduce(reduceMax),
		"ReduceMin":       reduce(reduceMin),
		"ReduceProd":      reduce(reduceProd),
		"ReduceSumSquare": reduce(reduceSumSquare),
		"ReduceL2":        reduce(reduceL2),
		"ReduceL1":        reduce(reduceL1),
		"ReduceLogSum":    reduce(reduceLogSum),
		"ReduceLogSumExp": reduce(reduceLogSumExp),
		"ArgMax":          argReduce(true),
		"ArgMin":          argReduce(false),
		"TopK":            opTopK,
		"CumSum":          opCumSum,

		// Shapes and data movement.
		"Identity":              opIdentity,
		"Dropout":               opDropout,
		"Flatten":               opFlatten,
		"Reshape":               opReshape,
		"Transpose":             opTranspose,
		"Concat":                opConcat,
		"Split":                 opSplit,
		"Slice":                 opSlice,
		"Gather":                opGather,
		"Unsqueeze":             opUnsqueeze,
		"Squeeze":               opSqueeze,
		"Shape":                 opShape,
		"Size":                  opSize,
		"Constant":              opConstant,
		"ConstantOfShape":       opConstantOfShape,
		"Expand":                opExpand,
		"Tile":                  opTile,
		"Range":                 opRange,
		"Trilu":                 opTrilu,
		"GatherElements":        opGatherElements,
		"Pad":                   opPad,
		"Resize":                opResize(false),
		"Upsample":              opResize(true),
		"DepthToSpace":          depthSpace(true),
		"SpaceToDepth":          depthSpace(false),
		"Hardmax":               opHardmax,
		"OneHot":                opOneHot,
		"Round":                 unary(roundEven, nil),
		"InstanceNormalization": opInstanceNorm,
	}
}
