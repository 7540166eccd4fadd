//go:build amd64

#include "textflag.h"

// The differentiator's element-wise passes, eight values a vector. Each
// rounds as its Go loop in diff_vector.go does (a multiply, then an add,
// never a fused multiply-add), so that the vector body and the scalar
// tail, or another architecture, give the same bits. n is a multiple of 8.

// func affineAVX2(dst, x *float32, n int64, a, b float32, relu bool)
//
// dst[i] = x[i]·a + b; with relu, max of that and +0 (as reluAVX2).
TEXT ·affineAVX2(SB), NOSPLIT, $0-33
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y4
	VBROADCASTSS b+28(FP), Y5
	MOVBQZX      relu+32(FP), R8
	VXORPS       Y6, Y6, Y6
	SHRQ         $3, CX
	JZ           afdone

afloop:
	VMULPS  (SI), Y4, Y0
	VADDPS  Y5, Y0, Y0
	TESTQ   R8, R8
	JZ      afstore
	VCMPPS  $2, Y6, Y0, Y1 // ≤ 0, ordered (LE_OS)
	VANDNPS Y0, Y1, Y0

afstore:
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     afloop

afdone:
	VZEROUPPER
	RET

// func bnTangentAVX2(dst, rx, x *float32, n int64, scale, m, k, b float32)
//
// dst[i] = (rx[i]·scale + (x[i] − m)·k) + b.
TEXT ·bnTangentAVX2(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         rx+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS scale+32(FP), Y4
	VBROADCASTSS m+36(FP), Y5
	VBROADCASTSS k+40(FP), Y6
	VBROADCASTSS b+44(FP), Y7
	SHRQ         $3, CX
	JZ           btdone

btloop:
	VMULPS  (SI), Y4, Y0
	VMOVUPS (DX), Y1
	VSUBPS  Y5, Y1, Y1
	VMULPS  Y6, Y1, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  Y7, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     btloop

btdone:
	VZEROUPPER
	RET

// func axpyAVX2(dst, x *float32, n int64, a float32)
//
// dst[i] += x[i]·a.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y4
	SHRQ         $3, CX
	JZ           axdone

axloop:
	VMULPS  (SI), Y4, Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     axloop

axdone:
	VZEROUPPER
	RET

// func axpy2AVX2(dst, x, y *float32, n int64, a, b float32)
//
// dst[i] += x[i]·a + y[i]·b.
TEXT ·axpy2AVX2(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS a+32(FP), Y4
	VBROADCASTSS b+36(FP), Y5
	SHRQ         $3, CX
	JZ           a2done

a2loop:
	VMULPS  (SI), Y4, Y0
	VMULPS  (DX), Y5, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     a2loop

a2done:
	VZEROUPPER
	RET

// func sumAVX2(dst, a, b *float32, n int64)
//
// dst[i] = a[i] + b[i]; dst may be a.
TEXT ·sumAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   sudone

suloop:
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     suloop

sudone:
	VZEROUPPER
	RET

// func reluAVX2(y, x *float32, n int64)
//
// y[i] = x[i] where x[i] > 0 or NaN, +0 elsewhere (Go's max(x, 0)): x is
// cleared where it compares ≤ 0, an ordered compare, false for NaN.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ   y+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Y4, Y4, Y4
	SHRQ   $3, CX
	JZ     rudone

ruloop:
	VMOVUPS (SI), Y0
	VCMPPS  $2, Y4, Y0, Y1 // x ≤ 0, ordered (LE_OS)
	VANDNPS Y0, Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     ruloop

rudone:
	VZEROUPPER
	RET

// func maskedAVX2(dst, src, y *float32, n, add int64)
//
// dst[i] = src[i] (dst[i] += src[i] if add is not 0) where the bits of
// y[i] are not all zero, +0 (nothing added) where y[i] is +0: the ReLU's
// pass-through of a tangent or a gradient (see nonZero).
TEXT ·maskedAVX2(SB), NOSPLIT, $0-40
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   n+24(FP), CX
	MOVQ   add+32(FP), BX
	VPXOR  Y4, Y4, Y4
	SHRQ   $3, CX
	JZ     madone
	TESTQ  BX, BX
	JNZ    maadd

maloop:
	VMOVDQU  (DX), Y1
	VPCMPEQD Y4, Y1, Y1 // y's bits all zero
	VANDNPS  (SI), Y1, Y0
	VMOVUPS  Y0, (DI)
	ADDQ     $32, SI
	ADDQ     $32, DX
	ADDQ     $32, DI
	DECQ     CX
	JNZ      maloop
	JMP      madone

maadd:
	VMOVDQU  (DX), Y1
	VPCMPEQD Y4, Y1, Y1
	VANDNPS  (SI), Y1, Y0
	VADDPS   (DI), Y0, Y0
	VMOVUPS  Y0, (DI)
	ADDQ     $32, SI
	ADDQ     $32, DX
	ADDQ     $32, DI
	DECQ     CX
	JNZ      maadd

madone:
	VZEROUPPER
	RET

// func centredDotAVX2(a, x, gs, rs *float32, n int64, m float32, sums *[16]float64)
//
// Adds to the eight running sums sums[0:8] the terms a[i]·(x[i] − m) (+
// gs[i]·rs[i] where gs is not nil), each in float32, and to sums[8:16] the
// a[i], both in float64: term i goes to running sum i mod 8.
TEXT ·centredDotAVX2(SB), NOSPLIT, $0-56
	MOVQ         a+0(FP), SI
	MOVQ         x+8(FP), DX
	MOVQ         gs+16(FP), R8
	MOVQ         rs+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSS m+40(FP), Y5
	MOVQ         sums+48(FP), DI
	VMOVUPD      0(DI), Y8
	VMOVUPD      32(DI), Y9
	VMOVUPD      64(DI), Y10
	VMOVUPD      96(DI), Y11
	SHRQ         $3, CX
	JZ           cddone
	TESTQ        R8, R8
	JNZ          cdtan

cdloop:
	VMOVUPS      (SI), Y0
	VMOVUPS      (DX), Y1
	VSUBPS       Y5, Y1, Y1
	VMULPS       Y1, Y0, Y1
	VCVTPS2PD    X1, Y2
	VEXTRACTF128 $1, Y1, X3
	VCVTPS2PD    X3, Y3
	VADDPD       Y2, Y8, Y8
	VADDPD       Y3, Y9, Y9
	VCVTPS2PD    X0, Y2
	VEXTRACTF128 $1, Y0, X3
	VCVTPS2PD    X3, Y3
	VADDPD       Y2, Y10, Y10
	VADDPD       Y3, Y11, Y11
	ADDQ         $32, SI
	ADDQ         $32, DX
	DECQ         CX
	JNZ          cdloop
	JMP          cddone

cdtan:
	VMOVUPS      (SI), Y0
	VMOVUPS      (DX), Y1
	VSUBPS       Y5, Y1, Y1
	VMULPS       Y1, Y0, Y1
	VMOVUPS      (R8), Y6
	VMULPS       (R9), Y6, Y6
	VADDPS       Y6, Y1, Y1
	VCVTPS2PD    X1, Y2
	VEXTRACTF128 $1, Y1, X3
	VCVTPS2PD    X3, Y3
	VADDPD       Y2, Y8, Y8
	VADDPD       Y3, Y9, Y9
	VCVTPS2PD    X0, Y2
	VEXTRACTF128 $1, Y0, X3
	VCVTPS2PD    X3, Y3
	VADDPD       Y2, Y10, Y10
	VADDPD       Y3, Y11, Y11
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $32, R8
	ADDQ         $32, R9
	DECQ         CX
	JNZ          cdtan

cddone:
	VMOVUPD Y8, 0(DI)
	VMOVUPD Y9, 32(DI)
	VMOVUPD Y10, 64(DI)
	VMOVUPD Y11, 96(DI)
	VZEROUPPER
	RET

// func moments64AVX2(x *float32, n int64, mean float64, sums *[8]float64, centred int64)
//
// Adds to the eight running sums x[i] in float64 (centred 0), or
// (x[i] − mean)² in float64 (centred not 0): term i goes to sum i mod 8.
TEXT ·moments64AVX2(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD mean+16(FP), Y5
	MOVQ         sums+24(FP), DI
	MOVQ         centred+32(FP), BX
	VMOVUPD      0(DI), Y8
	VMOVUPD      32(DI), Y9
	SHRQ         $3, CX
	JZ           modone
	TESTQ        BX, BX
	JNZ          mocen

moloop:
	VCVTPS2PD 0(SI), Y0
	VCVTPS2PD 16(SI), Y1
	VADDPD    Y0, Y8, Y8
	VADDPD    Y1, Y9, Y9
	ADDQ      $32, SI
	DECQ      CX
	JNZ       moloop
	JMP       modone

mocen:
	VCVTPS2PD 0(SI), Y0
	VCVTPS2PD 16(SI), Y1
	VSUBPD    Y5, Y0, Y0
	VSUBPD    Y5, Y1, Y1
	VMULPD    Y0, Y0, Y0
	VMULPD    Y1, Y1, Y1
	VADDPD    Y0, Y8, Y8
	VADDPD    Y1, Y9, Y9
	ADDQ      $32, SI
	DECQ      CX
	JNZ       mocen

modone:
	VMOVUPD Y8, 0(DI)
	VMOVUPD Y9, 32(DI)
	VZEROUPPER
	RET

// func bnTrainSumsAVX2(gy, x *float32, n int64, mean float64, sums *[16]float64)
//
// Adds to the eight running sums sums[0:8] gy[i] in float64, and to
// sums[8:16] gy[i]·(x[i] − mean), all in float64: term i goes to sum i
// mod 8.
TEXT ·bnTrainSumsAVX2(SB), NOSPLIT, $0-40
	MOVQ         gy+0(FP), SI
	MOVQ         x+8(FP), DX
	MOVQ         n+16(FP), CX
	VBROADCASTSD mean+24(FP), Y5
	MOVQ         sums+32(FP), DI
	VMOVUPD      0(DI), Y8
	VMOVUPD      32(DI), Y9
	VMOVUPD      64(DI), Y10
	VMOVUPD      96(DI), Y11
	SHRQ         $3, CX
	JZ           tsdone

tsloop:
	VCVTPS2PD 0(SI), Y0
	VCVTPS2PD 16(SI), Y1
	VADDPD    Y0, Y8, Y8
	VADDPD    Y1, Y9, Y9
	VCVTPS2PD 0(DX), Y2
	VCVTPS2PD 16(DX), Y3
	VSUBPD    Y5, Y2, Y2
	VSUBPD    Y5, Y3, Y3
	VMULPD    Y2, Y0, Y0
	VMULPD    Y3, Y1, Y1
	VADDPD    Y0, Y10, Y10
	VADDPD    Y1, Y11, Y11
	ADDQ      $32, SI
	ADDQ      $32, DX
	DECQ      CX
	JNZ       tsloop

tsdone:
	VMOVUPD Y8, 0(DI)
	VMOVUPD Y9, 32(DI)
	VMOVUPD Y10, 64(DI)
	VMOVUPD Y11, 96(DI)
	VZEROUPPER
	RET

// func bnTrainGradAVX2(gx, gy, x *float32, n int64, c *[4]float64, set bool)
//
// gx[i] += float32(((gy[i] − c[0]) − (x[i] − c[1])·c[2])·c[3]), computed
// in float64 (c: the mean of gy, the mean of x, k, the scale); with set,
// gx[i] = that.
TEXT ·bnTrainGradAVX2(SB), NOSPLIT, $0-41
	MOVQ         gx+0(FP), DI
	MOVQ         gy+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         n+24(FP), CX
	MOVQ         c+32(FP), BX
	MOVBQZX      set+40(FP), R8
	VBROADCASTSD 0(BX), Y4
	VBROADCASTSD 8(BX), Y5
	VBROADCASTSD 16(BX), Y6
	VBROADCASTSD 24(BX), Y7
	SHRQ         $3, CX
	JZ           tgdone

tgloop:
	VCVTPS2PD 0(SI), Y0
	VCVTPS2PD 16(SI), Y1
	VSUBPD    Y4, Y0, Y0
	VSUBPD    Y4, Y1, Y1
	VCVTPS2PD 0(DX), Y2
	VCVTPS2PD 16(DX), Y3
	VSUBPD    Y5, Y2, Y2
	VSUBPD    Y5, Y3, Y3
	VMULPD    Y6, Y2, Y2
	VMULPD    Y6, Y3, Y3
	VSUBPD    Y2, Y0, Y0
	VSUBPD    Y3, Y1, Y1
	VMULPD    Y7, Y0, Y0
	VMULPD    Y7, Y1, Y1
	VCVTPD2PSY Y0, X0
	VCVTPD2PSY Y1, X1
	VINSERTF128 $1, X1, Y0, Y0
	TESTQ     R8, R8
	JNZ       tgstore
	VADDPS    (DI), Y0, Y0

tgstore:
	VMOVUPS   Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $32, DI
	DECQ      CX
	JNZ       tgloop

tgdone:
	VZEROUPPER
	RET
