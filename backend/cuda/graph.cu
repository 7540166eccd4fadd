
// Kernels of the graph interpreter (graph.go), which runs the nodes of an
// ONNX graph that depend on the data or the weights: values are dense and
// row-major, as the reference evaluator (package onnx) holds them, and each
// kernel rounds as that evaluator does, so that a point's loss is its loss
// to float32 rounding.
//
// A view is described by a layout block of i64 on the device: the rank r,
// the r dimensions of the elements visited, each dimension's fast divisor
// (r multipliers, then r shifts: graph.go's fastDivisor), then r strides per
// operand; element i (row-major over the dimensions) of operand k is at
// Σ index_d · stride_kd.

// view_offsets sets o[j], for j below count, to the offset of element i of
// a view of layout m in operand first + j: the indices of i are found once
// for all the operands. Where the view has fewer than 2³¹ elements
// (narrow), each division by a dimension is a multiplication and a shift
// (Granlund and Montgomery's division by invariant integers, as PyTorch's
// IntDivider): a GPU has no integer divider, and a division in software,
// two a dimension for every element of every move, made the moves
// arithmetic-bound.
static __device__ void view_offsets(const i64* m, i64 i, bool narrow, int first, int count, i64* o) {
	int rank = (int)m[0];
	const i64* dims = m + 1;
	const i64* magic = m + 1 + rank;
	const i64* shift = m + 1 + 2 * rank;
	const i64* stride = m + 1 + 3 * rank + first * rank;
	for (int j = 0; j < count; j++) {
		o[j] = 0;
	}
	if (narrow) {
		unsigned u = (unsigned)i;
		for (int d = rank - 1; d >= 0; d--) {
			unsigned q = (__umulhi(u, (unsigned)magic[d]) + u) >> (unsigned)shift[d];
			i64 at = (i64)(u - q * (unsigned)dims[d]);
			for (int j = 0; j < count; j++) {
				o[j] += at * stride[j * rank + d];
			}
			u = q;
		}
		return;
	}
	for (int d = rank - 1; d >= 0; d--) {
		i64 at = i % dims[d];
		for (int j = 0; j < count; j++) {
			o[j] += at * stride[j * rank + d];
		}
		i /= dims[d];
	}
}

// NARROW(n) says whether a view of n elements is narrow for view_offsets.
#define NARROW(n) ((n) <= 0x7fffffffLL)

// copy_view sets out[base_out + (offset of i in operand 0)] to
// in[base_in + (offset of i in operand 1)] over the n elements of the view:
// a transpose, slice, expand, split or gather by constant indices, or an
// input placed in its part of a concatenation.
extern "C" __global__ void copy_view(float* out, const float* in, i64 n, const i64* m, i64 base_out, i64 base_in) {
	FOR_EACH(i, n) {
		i64 o[2];
		view_offsets(m, i, NARROW(n), 0, 2, o);
		out[base_out + o[0]] = in[base_in + o[1]];
	}
}

// gather_map sets out[i] = in[map[i]] over n values, or fill where
// map[i] is negative (padding): a move no view describes.
extern "C" __global__ void gather_map(float* out, const float* in, const i64* map, i64 n, float fill) {
	FOR_EACH(i, n) {
		out[i] = map[i] < 0 ? fill : in[map[i]];
	}
}

// Binary operators, numbered as graph.go's binaryOps.
static __device__ float binary_op(int op, float x, float y) {
	switch (op) {
	case 0:
		return x + y;
	case 1:
		return x - y;
	case 2:
		return x * y;
	case 3:
		return x / y;
	case 5: // Max and Min: NaN if either is
		return x != x || y != y ? x + y : (x > y ? x : y);
	case 6:
		return x != x || y != y ? x + y : (x < y ? x : y);
	case 7: // PRelu, y the slope
		return x < 0.0f ? x * y : x;
	case 8: // comparisons and logic give 1 or 0
		return x == y ? 1.0f : 0.0f;
	case 9:
		return x < y ? 1.0f : 0.0f;
	case 10:
		return x <= y ? 1.0f : 0.0f;
	case 11:
		return x > y ? 1.0f : 0.0f;
	case 12:
		return x >= y ? 1.0f : 0.0f;
	case 13:
		return x != 0.0f && y != 0.0f ? 1.0f : 0.0f;
	case 14:
		return x != 0.0f || y != 0.0f ? 1.0f : 0.0f;
	case 15:
		return (x != 0.0f) != (y != 0.0f) ? 1.0f : 0.0f;
	default: // Pow, in float64 as the evaluator; x^0.5 as its square root
		if (y == 0.5f) {
			return (float)sqrt((double)x);
		}
		return (float)pow((double)x, (double)y);
	}
}

// binary sets out[i] = op(a, b) over the n elements of out, a and b read
// through operands 1 and 2 of layout m (broadcast dimensions have stride
// 0), or at i itself where m is null: operands of out's shape.
extern "C" __global__ void binary(float* out, const float* a, const float* b, i64 n, const i64* m, int op) {
	FOR_EACH(i, n) {
		i64 o[2] = {i, i};
		if (m) {
			view_offsets(m, i, NARROW(n), 1, 2, o);
		}
		out[i] = binary_op(op, a[o[0]], b[o[1]]);
	}
}

// where sets out[i] = c ? x : y over the n elements of out, the operands
// read through operands 1, 2 and 3 of layout m.
extern "C" __global__ void where(float* out, const float* c, const float* x, const float* y, i64 n, const i64* m) {
	FOR_EACH(i, n) {
		i64 o[3];
		view_offsets(m, i, NARROW(n), 1, 3, o);
		out[i] = c[o[0]] != 0.0f ? x[o[1]] : y[o[2]];
	}
}

// Unary functions, numbered as graph.go's unaryOps, some with parameters
// a and b; those of libm in float64, rounded once, as the evaluator's
// math.Erf and the like.
extern "C" __global__ void unary(float* out, const float* x, i64 n, int op, float a, float b) {
	FOR_EACH(i, n) {
		float v = x[i];
		double d = (double)v;
		float r;
		switch (op) {
		case 0:
			r = (float)sqrt(d);
			break;
		case 1:
			r = (float)erf(d);
			break;
		case 2: // NaN passes, as PyTorch's ReLU
			r = v > 0.0f || v != v ? v : 0.0f;
			break;
		case 3:
			r = (float)(1.0 / (1.0 + exp(-d)));
			break;
		case 4:
			r = (float)tanh(d);
			break;
		case 5:
			r = (float)exp(d);
			break;
		case 6:
			r = (float)log(d);
			break;
		case 7:
			r = -v;
			break;
		case 8:
			r = 1.0f / v;
			break;
		case 9:
			r = (float)fabs(d);
			break;
		case 10: { // HardSwish, as ONNX defines it: x·max(0, min(1, x/6 + 1/2))
			float h = v / 6.0f + 0.5f;
			h = h < 1.0f ? h : 1.0f;
			h = h > 0.0f ? h : 0.0f;
			r = v * h;
			break;
		}
		case 11: // Clip to [a, b], NaN passing
			r = v < a ? a : v;
			r = r > b ? b : r;
			break;
		case 12: // LeakyRelu
			r = v < 0.0f ? a * v : v;
			break;
		case 13: { // HardSigmoid: max(0, min(1, a·x + b))
			float h = a * v + b;
			h = h < 1.0f ? h : 1.0f;
			r = h > 0.0f ? h : 0.0f;
			break;
		}
		case 14: // Elu
			r = v < 0.0f ? a * (float)expm1(d) : v;
			break;
		case 15: // Softplus
			r = d > 20.0 ? v : (float)log1p(exp(d));
			break;
		case 16: // Softsign
			r = v / (1.0f + (float)fabs(d));
			break;
		case 17:
			r = (float)sin(d);
			break;
		case 18:
			r = (float)cos(d);
			break;
		case 19: // Selu: a is alpha, b gamma
			r = v > 0.0f ? b * v : b * a * (float)expm1(d);
			break;
		case 20: // Gelu
			r = (float)(0.5 * d * (1.0 + erf(d / 1.4142135623730951)));
			break;
		case 21: // Gelu, approximate "tanh"
			r = (float)(0.5 * d * (1.0 + tanh(sqrt(2.0 / 3.141592653589793) * (d + 0.044715 * d * d * d))));
			break;
		case 22: // Sign: NaN and zeros pass
			r = v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v;
			break;
		case 23: // Not
			r = v == 0.0f ? 1.0f : 0.0f;
			break;
		default: // a cast to bool
			r = v != 0.0f ? 1.0f : 0.0f;
			break;
		}
		out[i] = r;
	}
}

// Row kernels (softmax_rows, layer_norm_rows) give each row a block of
// ROW_BLOCK or fewer threads (a power of two, graph.go's rowThreads): a row
// is read by consecutive threads, in step, where a thread a row read
// values a row apart. Each thread reduces a fixed stride of the row and the
// block adds the threads' values in a fixed tree (block_sum): the same bits
// on every run.
#define ROW_BLOCK 256

// block_max sets s[0] to the largest of the blockDim.x values of s, NaN
// if any is, as block_sum adds them.
static __device__ void block_max(double* s, int t) {
	__syncthreads();
	for (int k = blockDim.x / 2; k > 0; k >>= 1) {
		if (t < k && (s[t + k] > s[t] || s[t + k] != s[t + k])) {
			s[t] = s[t + k];
		}
		__syncthreads();
	}
}

// softmax_rows sets each of the rows of out, cols values each, to the
// softmax of x's: the largest value subtracted, the exponentials in
// float64 rounded to float32, summed in float64 and rounded, divided; or
// with log_ to the log-softmax, x − max − log(sum). The evaluator sums in
// float32 in order: the two differ by float32 rounding of the sum.
extern "C" __global__ void softmax_rows(float* out, const float* x, i64 rows, int cols, int log_) {
	__shared__ double s[ROW_BLOCK];
	int t = threadIdx.x;
	for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
		const float* xs = x + r * cols;
		float* ys = out + r * cols;
		float m = __int_as_float(0xff800000); // -Inf
		for (int k = t; k < cols; k += blockDim.x) {
			m = xs[k] > m || xs[k] != xs[k] ? xs[k] : m;
		}
		s[t] = (double)m;
		block_max(s, t);
		m = (float)s[0];
		__syncthreads(); // every thread has read s[0]
		double sum = 0.0;
		for (int k = t; k < cols; k += blockDim.x) {
			float e = (float)exp((double)(xs[k] - m));
			ys[k] = e;
			sum = sum + (double)e;
		}
		s[t] = sum;
		block_sum(s, t);
		float total = (float)s[0];
		__syncthreads();
		float ls = (float)log((double)total);
		for (int k = t; k < cols; k += blockDim.x) {
			ys[k] = log_ ? xs[k] - m - ls : ys[k] / total;
		}
	}
}

// layer_norm_rows normalises each of the rows of x, cols values each:
// mean and variance in float64, then y = (float)((x − mean)·inv)·scale + bias
// (bias may be null), as the evaluator's LayerNormalization, with scale
// and bias of cols values each; or, where channels is not 0, as its
// InstanceNormalization, with one value per row of each channel's (row r
// is channel r mod channels). The float64 sums are in another order than
// the evaluator's, which float32 rounding hides but for a tie.
extern "C" __global__ void layer_norm_rows(float* out, const float* x, const float* scale, const float* bias, i64 rows, int cols,
                                           float eps, int channels) {
	__shared__ double s[ROW_BLOCK];
	int t = threadIdx.x;
	for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
		const float* xs = x + r * cols;
		float* ys = out + r * cols;
		double sum = 0.0;
		for (int k = t; k < cols; k += blockDim.x) {
			sum += (double)xs[k];
		}
		s[t] = sum;
		block_sum(s, t);
		double mean = s[0] / (double)cols;
		__syncthreads(); // every thread has read s[0]
		double ss = 0.0;
		for (int k = t; k < cols; k += blockDim.x) {
			double d = (double)xs[k] - mean;
			ss += d * d;
		}
		s[t] = ss;
		block_sum(s, t);
		double inv = 1.0 / sqrt(s[0] / (double)cols + (double)eps);
		__syncthreads();
		for (int k = t; k < cols; k += blockDim.x) {
			int j = channels ? (int)(r % channels) : k;
			float y = (float)(((double)xs[k] - mean) * inv) * scale[j];
			if (bias) {
				y = y + bias[j];
			}
			ys[k] = y;
		}
	}
}

// pool_table pools each of the planes of x (in values each) by a table
// (onnx.Pooling): output position o of a plane (positions per plane, n =
// planes·positions values) reduces the inputs tab[k·positions + o] lists
// for its K kernel positions, in that order, skipping -1: the largest,
// NaN winning, or with count the sum divided by count[o].
extern "C" __global__ void pool_table(float* out, const float* x, i64 n, int in, int positions, int K, const int* tab,
                                      const int* count) {
	FOR_EACH(i, n) {
		int o = (int)(i % positions);
		const float* xs = x + (i / positions) * in;
		float v = count ? 0.0f : __int_as_float(0xff800000); // -Inf
		for (int k = 0; k < K; k++) {
			int j = tab[k * positions + o];
			if (j < 0) {
				continue;
			}
			if (count) {
				v = v + xs[j];
			} else if (xs[j] > v || xs[j] != xs[j]) {
				v = xs[j];
			}
		}
		out[i] = count ? v / (float)count[o] : v;
	}
}

// reduce_rows reduces each of the rows of x, cols values each, into
// out[r] as the reference evaluator's reductions over trailing axes do:
// in float32 in order, from 0 (−Inf for the largest, +Inf for the
// smallest, 1 for the product). Kinds, numbered as graph.go's reductions:
// 0 sum, 1 mean, 2 max, 3 min, 4 product, 5 sum of squares, 6 L2 norm,
// 7 L1 norm, 8 log of the sum, 9 log of the sum of exponentials.
extern "C" __global__ void reduce_rows(float* out, const float* x, i64 rows, i64 cols, int kind) {
	FOR_EACH(r, rows) {
		const float* xs = x + r * cols;
		float acc = kind == 2 ? __int_as_float(0xff800000) : kind == 3 ? __int_as_float(0x7f800000) : kind == 4 ? 1.0f : 0.0f;
		for (i64 k = 0; k < cols; k++) {
			float v = xs[k];
			switch (kind) {
			case 2:
				acc = v != v || acc != acc ? v + acc : (v > acc ? v : acc);
				break;
			case 3:
				acc = v != v || acc != acc ? v + acc : (v < acc ? v : acc);
				break;
			case 4:
				acc = acc * v;
				break;
			case 5:
			case 6:
				acc = acc + v * v;
				break;
			case 7:
				acc = acc + (float)fabs((double)v);
				break;
			case 9:
				acc = acc + (float)exp((double)v);
				break;
			default:
				acc = acc + v;
				break;
			}
		}
		switch (kind) {
		case 1:
			acc = acc / (float)cols;
			break;
		case 6:
			acc = (float)sqrt((double)acc);
			break;
		case 8:
		case 9:
			acc = (float)log((double)acc);
			break;
		}
		out[r] = acc;
	}
}

// gather_rows is Gather with indices computed from the data (token ids,
// held as float32): data is outer x axis x inner, idx has count values,
// and out (n = outer·count·inner values) is outer x count x inner. An
// index outside [-axis, axis) gives NaN.
extern "C" __global__ void gather_rows(float* out, const float* data, const float* idx, i64 n, i64 count, i64 axis, i64 inner) {
	FOR_EACH(i, n) {
		i64 k = i % inner;
		i64 j = (i / inner) % count;
		i64 o = i / (inner * count);
		i64 at = (i64)idx[j];
		if (at < 0) {
			at += axis;
		}
		out[i] = at >= 0 && at < axis ? data[(o * axis + at) * inner + k] : __int_as_float(0x7fc00000); // NaN
	}
}
