// Kernels of the CUDA evaluator. NVRTC compiles them when an evaluator is
// made, with --fmad=false: no multiply and add are fused, so each
// operation rounds to float32 as in the CPU backend (and in PyTorch's
// element-wise kernels). Convolutions and the linear layer are cuDNN's
// and cuBLAS's; these are the small pieces around them. Values are NCHW.

typedef long long i64;

#define FOR_EACH(i, n) \
	for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)

static __device__ int imin(int a, int b) { return a < b ? a : b; }

// form_weights sets w = c + (u·a + v·b) over n values, or c + u·a where v
// is null: the reference's θ + αu + βv in float32.
extern "C" __global__ void form_weights(float* w, const float* c, const float* u, const float* v, float a, float b, i64 n) {
	FOR_EACH(i, n) {
		float d = u[i] * a;
		if (v) {
			d = d + v[i] * b;
		}
		w[i] = c[i] + d;
	}
}

// fold sets, for each of C channels, the scale a and shift b of a conv or
// linear bias (bias, may be null) followed by an eval-mode batch norm
// (gamma, beta, mean, var; null gamma for none):
// a = gamma/sqrt(var + eps), b = bias·a + (beta − mean·a).
extern "C" __global__ void fold(float* a, float* b, int C, const float* bias, const float* gamma, const float* beta,
                                const float* mean, const float* var, float eps) {
	int c = blockIdx.x * blockDim.x + threadIdx.x;
	if (c >= C) {
		return;
	}
	float s = 1.0f;
	float t = bias ? bias[c] : 0.0f;
	if (gamma) {
		float invstd = 1.0f / (float)sqrt((double)(var[c] + eps));
		s = gamma[c] * invstd;
		t = t * s + (beta[c] - mean[c] * s);
	}
	a[c] = s;
	b[c] = t;
}

// epilogue sets y = x·a[c] + b[c] + r, then max(·, 0) if relu, over n
// values with C channels of hw values each; a (with b) and r may be null.
// y may be x. NaN passes the ReLU, as in PyTorch.
extern "C" __global__ void epilogue(float* y, const float* x, const float* r, const float* a, const float* b, i64 n, int C,
                                    int hw, int relu) {
	FOR_EACH(i, n) {
		float v = x[i];
		if (a) {
			int c = (int)((i / hw) % C);
			v = v * a[c] + b[c];
		}
		if (r) {
			v = v + r[i];
		}
		if (relu && !(v > 0.0f) && v == v) {
			v = 0.0f;
		}
		y[i] = v;
	}
}

// clamp is min(max(v, lo), hi), NaN passing (fminf and fmaxf would drop it).
static __device__ float clamp(float v, float lo, float hi) {
	if (v < lo) {
		return lo;
	}
	if (v > hi) {
		return hi;
	}
	return v;
}

// activation is activate's function of one value.
static __device__ float activation(float v, int kind, float lo, float hi) {
	switch (kind) {
	case 1:
		return clamp(v, lo, hi);
	case 2:
		return v <= -87.0f ? 0.0f : (float)(1.0 / (1.0 + exp(-(double)v)));
	case 3:
		return clamp(v + 3.0f, 0.0f, 6.0f) / 6.0f;
	case 4:
		return v * clamp(v + 3.0f, 0.0f, 6.0f) / 6.0f;
	}
	return v;
}

// activate applies an element-wise function to n values: kind 1 clips to
// [lo, hi], 2 is the sigmoid (from float64, correctly rounded, and 0 from
// -87 down, as the CPU backend: no denormal values), 3 PyTorch's
// hardsigmoid, 4 its hardswish, rounded as there.
extern "C" __global__ void activate(float* y, const float* x, i64 n, int kind, float lo, float hi) {
	FOR_EACH(i, n) {
		y[i] = activation(x[i], kind, lo, hi);
	}
}

// mul sets y = a·b over n values, b holding one value per run of each
// consecutive values of a: 1 for equal shapes, the pixels of a plane for
// a per-channel scale (squeeze-and-excitation).
extern "C" __global__ void mul(float* y, const float* a, const float* b, i64 n, int each) {
	FOR_EACH(i, n) {
		y[i] = a[i] * b[i / each];
	}
}

// channel_source is where in x, of Cin channels, the value i of channels'
// output y, of C channels, comes from (channel from + j of x for channel j
// of y when groups is 0): also where place puts, and take takes, the
// values of one input of a concatenation.
static __device__ i64 channel_source(i64 i, int C, int Cin, int hw, int groups, int from) {
	int p = (int)(i % hw);
	i64 t = i / hw;
	int j = (int)(t % C);
	i64 s = t / C;
	int src = groups > 0 ? j % groups * (C / groups) + j / groups : from + j;
	return (s * Cin + src) * hw + p;
}

// channels copies to each of the C output channels of y (n samples of
// hw values, total = n·C·hw) an input channel of x, which has Cin: for a
// slice (groups 0), channel from + j; for a channel shuffle of groups
// groups, channel (j mod groups)·(C/groups) + j div groups.
extern "C" __global__ void channels(float* y, const float* x, i64 total, int C, int Cin, int hw, int groups, int from) {
	FOR_EACH(i, total) {
		y[i] = x[channel_source(i, C, Cin, hw, groups, from)];
	}
}

// maxpool takes the maximum over k×k windows with stride s of each of
// the planes (h×w) of x, padded by p on every side; windows reaching past
// the input (padding, ceil mode) cover its valid part. NaN wins, as in
// PyTorch.
extern "C" __global__ void maxpool(float* y, const float* x, i64 planes, int h, int w, int k, int s, int p, int oh, int ow) {
	FOR_EACH(i, planes * oh * ow) {
		int ox = (int)(i % ow);
		i64 t = i / ow;
		int oy = (int)(t % oh);
		const float* src = x + (t / oh) * h * w;
		int y0 = oy * s - p, x0 = ox * s - p;
		int y1 = imin(y0 + k, h), x1 = imin(x0 + k, w);
		float m = __int_as_float(0xff800000);
		for (int yy = y0 > 0 ? y0 : 0; yy < y1; yy++) {
			for (int xx = x0 > 0 ? x0 : 0; xx < x1; xx++) {
				float v = src[yy * w + xx];
				if (v > m || v != v) {
					m = v;
				}
			}
		}
		y[i] = m;
	}
}

// avgpool averages k×k windows with stride s (floor mode, no padding).
extern "C" __global__ void avgpool(float* y, const float* x, i64 planes, int h, int w, int k, int s, int oh, int ow) {
	float inv = 1.0f / (float)(k * k);
	FOR_EACH(i, planes * oh * ow) {
		int ox = (int)(i % ow);
		i64 t = i / ow;
		int oy = (int)(t % oh);
		const float* src = x + (t / oh) * h * w;
		float sum = 0.0f;
		for (int yy = oy * s; yy < oy * s + k; yy++) {
			for (int xx = ox * s; xx < ox * s + k; xx++) {
				sum = sum + src[yy * w + xx];
			}
		}
		y[i] = sum * inv;
	}
}

// gavgpool averages each of the planes of hw values.
extern "C" __global__ void gavgpool(float* y, const float* x, i64 planes, int hw) {
	FOR_EACH(p, planes) {
		const float* src = x + p * hw;
		float sum = 0.0f;
		for (int j = 0; j < hw; j++) {
			sum = sum + src[j];
		}
		y[p] = sum / (float)hw;
	}
}

// place copies x, n samples of c channels of hw values (total = n·c·hw),
// into channels [off, off+c) of y, which has C channels: one input of a
// concatenation along channels.
extern "C" __global__ void place(float* y, const float* x, i64 total, int c, int C, int off, int hw) {
	FOR_EACH(i, total) {
		y[channel_source(i, c, C, hw, 0, off)] = x[i];
	}
}

// softmax_sum sets *m to the largest of the K logits of row (NaN winning)
// and *sum to Σ exp(z − m), in float64, and returns the index of the
// first largest: the pieces of a cross-entropy and of its gradient.
static __device__ int softmax_sum(const float* row, int K, double* m, double* sum) {
	double top = __longlong_as_double(0xfff0000000000000ULL);
	int best = 0;
	for (int c = 0; c < K; c++) {
		double v = row[c];
		if (v > top || (v != v && top == top)) {
			top = v;
			best = c;
		}
	}
	double s = 0.0;
	for (int c = 0; c < K; c++) {
		s = s + exp((double)row[c] - top);
	}
	*m = top;
	*sum = s;
	return best;
}

// block_sum adds the blockDim.x values of s, one a thread, into s[0] in a
// fixed tree, the same on every run; every thread of the block calls it,
// and may read s[0] after.
static __device__ void block_sum(double* s, int t) {
	__syncthreads();
	for (int k = blockDim.x / 2; k > 0; k >>= 1) {
		if (t < k) {
			s[t] = s[t] + s[t + k];
		}
		__syncthreads();
	}
}

// xent computes, for the n samples of a batch whose first is sample lo of
// its dataset, the cross-entropy of the logits z (n×K) against the labels
// and whether the first largest logit is the label's, into loss[lo+i] and
// hit[lo+i]. In float64, as the CPU backend.
extern "C" __global__ void xent(double* loss, int* hit, const float* z, const int* label, int n, int K, i64 lo) {
	FOR_EACH(i, n) {
		const float* row = z + i * K;
		double m, sum;
		int best = softmax_sum(row, K, &m, &sum);
		int y = label[lo + i];
		loss[lo + i] = m + log(sum) - (double)row[y];
		hit[lo + i] = best == y;
	}
}

// total sums loss[0, n) and hit[0, n) into out[0] and out[1] in a fixed
// order, so that a point's result does not depend on scheduling. One
// block of 1024 threads.
extern "C" __global__ void total(double* out, const double* loss, const int* hit, i64 n) {
	__shared__ double ls[1024];
	__shared__ i64 hs[1024];
	int t = threadIdx.x;
	double l = 0.0;
	i64 h = 0;
	for (i64 i = t; i < n; i += blockDim.x) {
		l = l + loss[i];
		h += hit[i];
	}
	ls[t] = l;
	hs[t] = h;
	__syncthreads();
	for (int s = blockDim.x / 2; s > 0; s >>= 1) {
		if (t < s) {
			ls[t] = ls[t] + ls[t + s];
			hs[t] += hs[t + s];
		}
		__syncthreads();
	}
	if (t == 0) {
		out[0] = ls[0];
		out[1] = (double)hs[0];
	}
}
