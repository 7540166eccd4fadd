// Kernels of the differentiator (diff.go): the forward values and their
// tangents (Pearlmutter's R{·}), the backward pass and its tangents, for
// the ops around cuDNN's and cuBLAS's products. They are compiled with
// kernels.cu, whose FOR_EACH, imin and i64 they use, and like them round
// every operation to float32 (no fused multiply-add) in the order the CPU
// differentiator uses. Gradients are added to (+=), never set: a value
// read by several ops receives each one's share. Every sum runs in a fixed
// order, so a result does not depend on scheduling.

// add_channel adds b[c] to each of the n values of y (C channels of hw
// values each): a convolution's or linear layer's bias, or its tangent.
extern "C" __global__ void add_channel(float* y, const float* b, i64 n, int C, int hw) {
	FOR_EACH(i, n) {
		y[i] = y[i] + b[(int)((i / hw) % C)];
	}
}

// bn_forward is an eval-mode batch norm, y = x·a + (β − μ·a) with
// a = γ/σ, σ = √(var + eps); with ry, its tangent
// ry = (rx·a + (x − μ)·(vγ/σ)) + vβ, vγ and vβ (the direction's batch-norm
// entries) null where they do not move.
extern "C" __global__ void bn_forward(float* y, float* ry, const float* x, const float* rx, const float* gamma,
                                      const float* beta, const float* mean, const float* var, const float* vgamma,
                                      const float* vbeta, float eps, i64 n, int C, int hw) {
	FOR_EACH(i, n) {
		int c = (int)((i / hw) % C);
		float sigma = (float)sqrt((double)(var[c] + eps));
		float a = gamma[c] / sigma;
		float v = x[i];
		y[i] = v * a + (beta[c] - mean[c] * a);
		if (ry) {
			float k = vgamma ? vgamma[c] / sigma : 0.0f;
			float b = vbeta ? vbeta[c] : 0.0f;
			ry[i] = rx[i] * a + (v - mean[c]) * k + b;
		}
	}
}

// nonzero is whether a ReLU's output y is not +0: where it passed its
// input (positive, NaN or −0 passing as it came).
static __device__ bool nonzero(float y) { return __float_as_uint(y) != 0u; }

// relu_forward sets y = max(x, 0), NaN passing, and with ry the tangent
// rx where y ≠ +0, +0 elsewhere.
extern "C" __global__ void relu_forward(float* y, float* ry, const float* x, const float* rx, i64 n) {
	FOR_EACH(i, n) {
		float v = x[i];
		if (!(v > 0.0f) && v == v) {
			v = 0.0f;
		}
		y[i] = v;
		if (ry) {
			ry[i] = nonzero(v) ? rx[i] : 0.0f;
		}
	}
}

// relu_backward adds gy to gx where the ReLU's output y ≠ +0, and with
// rgx, rgy likewise.
extern "C" __global__ void relu_backward(float* gx, float* rgx, const float* gy, const float* rgy, const float* y, i64 n) {
	FOR_EACH(i, n) {
		if (nonzero(y[i])) {
			gx[i] = gx[i] + gy[i];
			if (rgx) {
				rgx[i] = rgx[i] + rgy[i];
			}
		}
	}
}

// sum2 sets y = a + b over n values.
extern "C" __global__ void sum2(float* y, const float* a, const float* b, i64 n) {
	FOR_EACH(i, n) {
		y[i] = a[i] + b[i];
	}
}

// accumulate adds x to y over n values.
extern "C" __global__ void accumulate(float* y, const float* x, i64 n) {
	FOR_EACH(i, n) {
		y[i] = y[i] + x[i];
	}
}

// maxpool_forward is kernels.cu's maxpool recording, for each output, where
// in its plane the maximum was (idx), and with ry carrying the tangent
// from there.
extern "C" __global__ void maxpool_forward(float* y, int* idx, float* ry, const float* x, const float* rx, i64 planes, int h,
                                           int w, int k, int s, int p, int oh, int ow) {
	FOR_EACH(i, planes * oh * ow) {
		int ox = (int)(i % ow);
		i64 t = i / ow;
		int oy = (int)(t % oh);
		i64 base = (t / oh) * h * w;
		int y0 = oy * s - p, x0 = ox * s - p;
		int y1 = imin(y0 + k, h), x1 = imin(x0 + k, w);
		float m = __int_as_float(0xff800000);
		int at = -1;
		for (int yy = y0 > 0 ? y0 : 0; yy < y1; yy++) {
			for (int xx = x0 > 0 ? x0 : 0; xx < x1; xx++) {
				float v = x[base + yy * w + xx];
				if (v > m || v != v || at < 0) {
					m = v;
					at = yy * w + xx;
				}
			}
		}
		y[i] = m;
		idx[i] = at;
		if (ry) {
			ry[i] = rx[base + at];
		}
	}
}

// maxpool_backward adds to each input value the gradients of the outputs
// whose maximum it was, in output order (the CPU's order), reading every
// window that covers it: no two threads write one value, so there are
// no atomics and the sums are the same on every run.
extern "C" __global__ void maxpool_backward(float* gx, const float* gy, const int* idx, i64 planes, int h, int w, int k, int s,
                                            int p, int oh, int ow) {
	FOR_EACH(i, planes * h * w) {
		int at = (int)(i % (h * w));
		i64 plane = i / (h * w);
		int iy = at / w, ix = at % w;
		// Windows oy with oy·s − p ≤ iy < oy·s − p + k.
		int oy0 = iy + p - k + 1 > 0 ? (iy + p - k + 1 + s - 1) / s : 0;
		int oy1 = imin((iy + p) / s + 1, oh);
		int ox0 = ix + p - k + 1 > 0 ? (ix + p - k + 1 + s - 1) / s : 0;
		int ox1 = imin((ix + p) / s + 1, ow);
		float g = gx[i];
		for (int oy = oy0; oy < oy1; oy++) {
			for (int ox = ox0; ox < ox1; ox++) {
				i64 j = (plane * oh + oy) * ow + ox;
				if (idx[j] == at) {
					g = g + gy[j];
				}
			}
		}
		gx[i] = g;
	}
}

// avgpool_backward adds to each input value gy·(1/k²) of every k×k window
// (stride s, no padding) that covers it, in output order.
extern "C" __global__ void avgpool_backward(float* gx, const float* gy, i64 planes, int h, int w, int k, int s, int oh, int ow) {
	float inv = 1.0f / (float)(k * k);
	FOR_EACH(i, planes * h * w) {
		int at = (int)(i % (h * w));
		i64 plane = i / (h * w);
		int iy = at / w, ix = at % w;
		int oy0 = iy - k + 1 > 0 ? (iy - k + 1 + s - 1) / s : 0;
		int oy1 = imin(iy / s + 1, oh);
		int ox0 = ix - k + 1 > 0 ? (ix - k + 1 + s - 1) / s : 0;
		int ox1 = imin(ix / s + 1, ow);
		float g = gx[i];
		for (int oy = oy0; oy < oy1; oy++) {
			for (int ox = ox0; ox < ox1; ox++) {
				g = g + gy[(plane * oh + oy) * ow + ox] * inv;
			}
		}
		gx[i] = g;
	}
}

// gavgpool_backward adds gy[plane]/hw to each of the plane's hw values.
extern "C" __global__ void gavgpool_backward(float* gx, const float* gy, i64 planes, int hw) {
	FOR_EACH(i, planes * hw) {
		gx[i] = gx[i] + gy[i / hw] / (float)hw;
	}
}

// take adds to gx, n samples of c channels of hw values (total = n·c·hw),
// channels [off, off+c) of gy, which has C: the gradient of one input of a
// concatenation (kernels.cu's place run backward).
extern "C" __global__ void take(float* gx, const float* gy, i64 total, int c, int C, int off, int hw) {
	FOR_EACH(i, total) {
		gx[i] = gx[i] + gy[channel_source(i, c, C, hw, 0, off)];
	}
}

// bn_backward_x adds the batch norm's input gradient gy·a (a = γ/σ) to gx
// and, with rgx, its tangent rgy·a + gy·(vγ/σ), vγ null where it does not
// move.
extern "C" __global__ void bn_backward_x(float* gx, float* rgx, const float* gy, const float* rgy, const float* gamma,
                                         const float* var, const float* vgamma, float eps, i64 n, int C, int hw) {
	FOR_EACH(i, n) {
		int c = (int)((i / hw) % C);
		float sigma = (float)sqrt((double)(var[c] + eps));
		float a = gamma[c] / sigma;
		gx[i] = gx[i] + gy[i] * a;
		if (rgx) {
			float k = vgamma ? vgamma[c] / sigma : 0.0f;
			rgx[i] = rgx[i] + (rgy[i] * a + gy[i] * k);
		}
	}
}

// SUMS_BLOCK is the threads per block of channel_sums (diff.go's sumsBlock).
#define SUMS_BLOCK 256

// channel_sums reduces, for channel blockIdx.x of C (n samples of hw
// values each), in float64:
//   sum = Σ a,   dot = Σ a·(x − μ) + g·r   (g, r null: no second term),
// and adds sum to sum_out[c] and dot/σ to dot_out[c], σ = √(var + eps)
// (dot_out null: no dot, x, mean and var unused). These are a batch norm's
// parameter gradients and their tangents (Σ gy·x̂ and Σ gy; Σ (Rgy·(x − μ)
// + gy·Rx)/σ and Σ Rgy), and with dot_out null a bias's (Σ gy). Each
// thread sums a fixed stride of the values, then the block adds the
// threads' sums in a fixed tree: the same bits on every run.
extern "C" __global__ void channel_sums(float* sum_out, float* dot_out, const float* a, const float* x, const float* g,
                                        const float* r, const float* mean, const float* var, float eps, int n, int C,
                                        int hw) {
	__shared__ double ss[SUMS_BLOCK];
	__shared__ double ds[SUMS_BLOCK];
	int c = blockIdx.x;
	int t = threadIdx.x;
	float m = dot_out ? mean[c] : 0.0f;
	double sum = 0.0, dot = 0.0;
	for (i64 j = t; j < (i64)n * hw; j += blockDim.x) {
		i64 at = ((j / hw) * C + c) * hw + j % hw;
		float v = a[at];
		sum = sum + (double)v;
		if (dot_out) {
			float term = v * (x[at] - m);
			if (g) {
				term = term + g[at] * r[at];
			}
			dot = dot + (double)term;
		}
	}
	ss[t] = sum;
	ds[t] = dot;
	block_sum(ss, t);
	block_sum(ds, t);
	if (t == 0) {
		if (sum_out) {
			sum_out[c] = sum_out[c] + (float)ss[0];
		}
		if (dot_out) {
			double sigma = (double)(float)sqrt((double)(var[c] + eps));
			dot_out[c] = dot_out[c] + (float)(ds[0] / sigma);
		}
	}
}

// xent_grad computes, for the first count of the n samples of a batch
// (the first being sample lo of its dataset), the cross-entropy of the
// logits z (n×K) against the labels into loss[lo+i], whether the first
// largest logit is the label's into hit[lo+i], the loss gradient
// (p − onehot)·inv into gz and, with rgz, its tangent p ⊙ (rz − ⟨p, rz⟩)·inv,
// in float64 as the CPU differentiator. The rows of the n − count padding
// samples get a zero gradient, so they add nothing.
extern "C" __global__ void xent_grad(double* loss, int* hit, float* gz, float* rgz, const float* z, const float* rz,
                                     const int* label, int count, int n, int K, i64 lo, double inv) {
	FOR_EACH(i, n) {
		const float* row = z + i * K;
		float* g = gz + i * K;
		float* rg = rgz ? rgz + i * K : 0;
		if (i >= count) {
			for (int c = 0; c < K; c++) {
				g[c] = 0.0f;
				if (rg) {
					rg[c] = 0.0f;
				}
			}
			continue;
		}
		double m, total;
		int best = softmax_sum(row, K, &m, &total);
		int y = label[lo + i];
		loss[lo + i] = log(total) + m - (double)row[y];
		hit[lo + i] = best == y;
		double dot = 0.0;
		if (rg) {
			for (int c = 0; c < K; c++) {
				dot = dot + exp((double)row[c] - m) / total * (double)rz[i * K + c];
			}
		}
		for (int c = 0; c < K; c++) {
			double p = exp((double)row[c] - m) / total;
			g[c] = (float)(p * inv);
			if (rg) {
				rg[c] = (float)(p * ((double)rz[i * K + c] - dot) * inv);
			}
		}
		g[y] = g[y] - (float)inv;
	}
}

// bn_train_stats computes, for channel blockIdx.x of C (n samples of hw
// values x), the batch's mean μ and biased variance σ² in float64 (the
// variance about the float64 mean), and sets mean[c] and invstd[c], the
// float32 μ and 1/√(σ² + eps) the backward pass reads; the forward pass's
// scale a[c] = γ/√(σ² + eps) and shift b[c] = β − μ·γ/√(σ² + eps), rounded
// once from float64; and the running statistics, moved towards μ and the
// unbiased variance by the momentum, as torch.nn.BatchNorm2d in training
// mode does. Fixed-order sums, as channel_sums.
extern "C" __global__ void bn_train_stats(float* mean, float* invstd, float* a, float* b, float* rmean, float* rvar,
                                          const float* x, const float* gamma, const float* beta, float eps, float momentum,
                                          int n, int C, int hw) {
	__shared__ double ss[SUMS_BLOCK];
	int c = blockIdx.x;
	int t = threadIdx.x;
	i64 count = (i64)n * hw;
	double s = 0.0;
	for (i64 j = t; j < count; j += blockDim.x) {
		s = s + (double)x[((j / hw) * C + c) * hw + j % hw];
	}
	ss[t] = s;
	block_sum(ss, t);
	double mu = ss[0] / (double)count;
	__syncthreads(); // every thread has read ss[0]
	s = 0.0;
	for (i64 j = t; j < count; j += blockDim.x) {
		double d = (double)x[((j / hw) * C + c) * hw + j % hw] - mu;
		s = s + d * d;
	}
	ss[t] = s;
	block_sum(ss, t);
	if (t == 0) {
		double variance = ss[0] / (double)count;
		double is = 1.0 / sqrt(variance + (double)eps);
		mean[c] = (float)mu;
		invstd[c] = (float)is;
		a[c] = (float)(is * (double)gamma[c]);
		b[c] = (float)((double)beta[c] - mu * is * (double)gamma[c]);
		double unbiased = count > 1 ? ss[0] / (double)(count - 1) : variance;
		double m = (double)momentum;
		rmean[c] = (float)((1.0 - m) * (double)rmean[c] + m * mu);
		rvar[c] = (float)((1.0 - m) * (double)rvar[c] + m * unbiased);
	}
}

// bn_train_sums is the first half of a training-mode batch norm's
// backward pass, for channel blockIdx.x: Σ gy and Σ gy·(x − μ) in float64,
// μ and s = 1/√(σ² + eps) being bn_train_stats' float32 mean and invstd.
// It adds Σ gy·(x − μ)·s to the gradient of γ, gg[c], and Σ gy to that of
// β, gb[c] (with gg null, neither), and sets coef[2c] = Σ gy/N and
// coef[2c+1] = Σ gy·(x − μ)·s²/N, N the channel's n·hw values, for
// bn_train_backward_x.
extern "C" __global__ void bn_train_sums(float* gg, float* gb, double* coef, const float* gy, const float* x,
                                         const float* mean, const float* invstd, int n, int C, int hw) {
	__shared__ double ss[SUMS_BLOCK];
	__shared__ double ds[SUMS_BLOCK];
	int c = blockIdx.x;
	int t = threadIdx.x;
	i64 count = (i64)n * hw;
	double mu = (double)mean[c];
	double sum = 0.0, dot = 0.0;
	for (i64 j = t; j < count; j += blockDim.x) {
		i64 at = ((j / hw) * C + c) * hw + j % hw;
		double g = (double)gy[at];
		sum = sum + g;
		dot = dot + g * ((double)x[at] - mu);
	}
	ss[t] = sum;
	ds[t] = dot;
	block_sum(ss, t);
	block_sum(ds, t);
	if (t == 0) {
		double is = (double)invstd[c];
		if (gg) {
			gg[c] = gg[c] + (float)(ds[0] * is);
			gb[c] = gb[c] + (float)ss[0];
		}
		coef[2 * c] = ss[0] / (double)count;
		coef[2 * c + 1] = ds[0] * is * is / (double)count;
	}
}

// bn_train_backward_x adds a training-mode batch norm's input gradient,
// ((gy − Σgy/N) − (x − μ)·Σ(gy·(x − μ))·s²/N)·s·γ computed in float64, to
// gx (coef from bn_train_sums).
extern "C" __global__ void bn_train_backward_x(float* gx, const float* gy, const float* x, const double* coef,
                                               const float* mean, const float* invstd, const float* gamma, i64 n, int C,
                                               int hw) {
	FOR_EACH(i, n) {
		int c = (int)((i / hw) % C);
		double scale = (double)invstd[c] * (double)gamma[c];
		gx[i] = gx[i] + (float)(((double)gy[i] - coef[2 * c] - ((double)x[i] - (double)mean[c]) * coef[2 * c + 1]) * scale);
	}
}

// activation_derivs sets *d1 and *d2 to f'(x) and f''(x) of activation
// kind at x, y being f(x): PyTorch's derivatives (the masks of
// hardtanh_backward, hardsigmoid_backward and hardswish_backward, and the
// second derivatives their double backward uses), in float32 as the CPU
// differentiator's.
static __device__ void activation_derivs(int kind, float lo, float hi, float x, float y, float* d1, float* d2) {
	*d1 = 0.0f;
	*d2 = 0.0f;
	switch (kind) {
	case 1:
		if (lo < x && x < hi) {
			*d1 = 1.0f;
		}
		break;
	case 2:
		*d1 = (1.0f - y) * y;
		*d2 = *d1 * (1.0f - 2.0f * y);
		break;
	case 3:
		if (-3.0f < x && x < 3.0f) {
			*d1 = 1.0f / 6.0f;
		}
		break;
	case 4:
		if (x < -3.0f) {
			break;
		}
		if (x <= 3.0f) {
			*d1 = x / 3.0f + 0.5f;
			if (x > -3.0f && x < 3.0f) {
				*d2 = 1.0f / 3.0f;
			}
			break;
		}
		*d1 = 1.0f;
		break;
	}
}

// activate_forward is kernels.cu's activate with, where ry is not null,
// the tangent ry = f'(x)·rx.
extern "C" __global__ void activate_forward(float* y, float* ry, const float* x, const float* rx, i64 n, int kind, float lo,
                                            float hi) {
	FOR_EACH(i, n) {
		float v = activation(x[i], kind, lo, hi);
		y[i] = v;
		if (ry) {
			float d1, d2;
			activation_derivs(kind, lo, hi, x[i], v, &d1, &d2);
			ry[i] = d1 * rx[i];
		}
	}
}

// activate_backward adds f'(x)·gy to gx and, where rgx is not null,
// f'(x)·rgy + f''(x)·rx·gy to rgx; y is f(x).
extern "C" __global__ void activate_backward(float* gx, float* rgx, const float* gy, const float* rgy, const float* x,
                                             const float* y, const float* rx, i64 n, int kind, float lo, float hi) {
	FOR_EACH(i, n) {
		float d1, d2;
		activation_derivs(kind, lo, hi, x[i], y[i], &d1, &d2);
		gx[i] = gx[i] + d1 * gy[i];
		if (rgx) {
			rgx[i] = rgx[i] + (d1 * rgy[i] + d2 * rx[i] * gy[i]);
		}
	}
}

// mul_tangent sets ry = ra·b + a·rb, b and rb holding one value per run
// of each values (kernels.cu's mul).
extern "C" __global__ void mul_tangent(float* ry, const float* ra, const float* a, const float* b, const float* rb, i64 n,
                                       int each) {
	FOR_EACH(i, n) {
		ry[i] = ra[i] * b[i / each] + a[i] * rb[i / each];
	}
}

// mul_backward_a adds gy·b to ga and, where rga is not null, rgy·b + gy·rb
// to rga: the gradient of mul's first factor.
extern "C" __global__ void mul_backward_a(float* ga, float* rga, const float* gy, const float* rgy, const float* b, const float* rb,
                                          i64 n, int each) {
	FOR_EACH(i, n) {
		float bp = b[i / each];
		ga[i] = ga[i] + gy[i] * bp;
		if (rga) {
			rga[i] = rga[i] + (rgy[i] * bp + gy[i] * rb[i / each]);
		}
	}
}

// mul_backward_b adds to each of the planes values of gb Σ gy·a over its
// run of each values, and where rgb is not null, Σ (rgy·a + gy·ra) to rgb,
// in float64 in order: the gradient of mul's second factor.
extern "C" __global__ void mul_backward_b(float* gb, float* rgb, const float* gy, const float* rgy, const float* a, const float* ra,
                                          i64 planes, int each) {
	FOR_EACH(p, planes) {
		double s = 0.0, r = 0.0;
		for (i64 i = p * each; i < (p + 1) * each; i++) {
			s = s + (double)gy[i] * (double)a[i];
			if (rgb) {
				r = r + ((double)rgy[i] * (double)a[i] + (double)gy[i] * (double)ra[i]);
			}
		}
		gb[p] = gb[p] + (float)s;
		if (rgb) {
			rgb[p] = rgb[p] + (float)r;
		}
	}
}

// channels_backward adds each value of gy, channels' output, to the input
// value it came from in gx: a shuffle or a slice takes each input plane
// once at most, so no two threads write one value.
extern "C" __global__ void channels_backward(float* gx, const float* gy, i64 total, int C, int Cin, int hw, int groups, int from) {
	FOR_EACH(i, total) {
		i64 src = channel_source(i, C, Cin, hw, groups, from);
		gx[src] = gx[src] + gy[i];
	}
}
