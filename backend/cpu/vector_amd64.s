//go:build amd64

#include "textflag.h"

// func depthwiseAVX2(args *dwArgs)
//
// For blocks units of 16 channels: dst[16j:16j+16] = min(max(Σ_t
// pack[t·cp+16j:...] · in[offs[t]+16j:...] + bias[16j:...], lo), hi), the
// taps summed in order with fused multiply-adds, two vectors of 8 per
// unit. A NaN sum stays NaN: it is the second operand of VMAXPS and
// VMINPS, which return that operand when either is NaN. Offsets and cp
// are in bytes.
TEXT ·depthwiseAVX2(SB), NOSPLIT, $0-8
	MOVQ         args+0(FP), AX
	MOVQ         0(AX), DI   // dst
	MOVQ         8(AX), SI   // in, at the window's centre
	MOVQ         16(AX), DX  // pack
	MOVQ         24(AX), BX  // bias
	MOVQ         32(AX), R8  // offs
	MOVQ         40(AX), R9  // taps
	MOVQ         48(AX), R10 // blocks
	MOVQ         56(AX), R11 // cp, bytes
	VBROADCASTSS 64(AX), Y4  // lo
	VBROADCASTSS 68(AX), Y5  // hi
	TESTQ        R10, R10
	JZ           done

block:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ   DX, R12
	XORQ   R13, R13

tap:
	MOVQ        (R8)(R13*8), R14
	VMOVUPS     (R12), Y2
	VMOVUPS     32(R12), Y3
	VFMADD231PS (SI)(R14*1), Y2, Y0
	VFMADD231PS 32(SI)(R14*1), Y3, Y1
	ADDQ        R11, R12
	INCQ        R13
	CMPQ        R13, R9
	JLT         tap

	VADDPS  (BX), Y0, Y0
	VADDPS  32(BX), Y1, Y1
	VMAXPS  Y0, Y4, Y0
	VMAXPS  Y1, Y4, Y1
	VMINPS  Y0, Y5, Y0
	VMINPS  Y1, Y5, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, BX
	DECQ    R10
	JNZ     block

done:
	VZEROUPPER
	RET

// func clampAVX2(dst, src *float32, n int64, lo, hi float32)
//
// dst[i] = min(max(src[i], lo), hi) for i < n, n a multiple of 8; NaN
// stays NaN (see depthwiseAVX2).
TEXT ·clampAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y4
	VBROADCASTSS hi+28(FP), Y5
	SHRQ         $3, CX
	JZ           cdone

cloop:
	VMOVUPS (SI), Y0
	VMAXPS  Y0, Y4, Y0
	VMINPS  Y0, Y5, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     cloop

cdone:
	VZEROUPPER
	RET

// Constants of sigmoidAVX2: Cephes's expf.
DATA sigConst<>+0(SB)/4, $0x42ae0000  // 87: the largest t computed (see below)
DATA sigConst<>+4(SB)/4, $0xc2ae0000  // -87: the smallest t computed, e^t a normal float
DATA sigConst<>+8(SB)/4, $0x3fb8aa3b  // log2(e)
DATA sigConst<>+12(SB)/4, $0x3f318000 // 0.693359375: ln 2, high part
DATA sigConst<>+16(SB)/4, $0xb95e8083 // -2.12194440e-4: ln 2, low part
DATA sigConst<>+20(SB)/4, $0x39506967 // 1.9875691500e-4
DATA sigConst<>+24(SB)/4, $0x3ab743ce // 1.3981999507e-3
DATA sigConst<>+28(SB)/4, $0x3c088908 // 8.3334519073e-3
DATA sigConst<>+32(SB)/4, $0x3d2aa9c1 // 4.1665795894e-2
DATA sigConst<>+36(SB)/4, $0x3e2aaaaa // 1.6666665459e-1
DATA sigConst<>+40(SB)/4, $0x3f000000 // 0.5
DATA sigConst<>+44(SB)/4, $0x3f800000 // 1
DATA sigConst<>+48(SB)/4, $0x0000007f // 127, the exponent bias
DATA sigConst<>+52(SB)/4, $0x42ae0000 // 87: from it on the sigmoid of -t is flushed to 0
GLOBL sigConst<>(SB), RODATA|NOPTR, $56

// func sigmoidAVX2(dst, src *float32, n, silu int64)
//
// dst[i] = 1/(1 + e^-src[i]) for i < n, n a multiple of 8, in float32,
// times src[i] if silu is not 0 (x·sigmoid(x), nn.SiLU):
// e^t by Cephes's expf (t = n·ln 2 + r, a degree-7 polynomial in r, times
// 2^n), within 2 units in the last place of the correctly rounded
// sigmoid. The sigmoid of x ≤ -87 (below 1.7e-38, near the smallest
// normal float) is 0: denormal values, produced or read, would slow this
// and every later operation on them many times; t is clamped to [-87, 87]
// so that no lane makes one. NaN stays NaN.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVQ         silu+24(FP), R8
	VBROADCASTSS sigConst<>+0(SB), Y8   // hi
	VBROADCASTSS sigConst<>+4(SB), Y9   // lo
	VBROADCASTSS sigConst<>+8(SB), Y10  // log2(e)
	VBROADCASTSS sigConst<>+12(SB), Y11 // C1
	VBROADCASTSS sigConst<>+16(SB), Y12 // C2
	VBROADCASTSS sigConst<>+44(SB), Y13 // 1
	VPBROADCASTD sigConst<>+48(SB), Y14 // 127
	VBROADCASTSS sigConst<>+52(SB), Y6  // the flush threshold
	VXORPS       Y15, Y15, Y15
	SHRQ         $3, CX
	JZ           sdone

sloop:
	VMOVUPS (SI), Y0
	VSUBPS  Y0, Y15, Y0     // t = -x
	VCMPPS  $13, Y6, Y0, Y7 // t ≥ 87 (false for NaN): the sigmoid flushed to 0
	VMINPS  Y0, Y8, Y0      // NaN stays: it is the second operand
	VMAXPS  Y0, Y9, Y0

	VMULPS   Y10, Y0, Y1 // n = round(t·log2 e)
	VROUNDPS $0, Y1, Y1
	VMULPS   Y11, Y1, Y2 // r = t − n·C1 − n·C2
	VSUBPS   Y2, Y0, Y0
	VMULPS   Y12, Y1, Y2
	VSUBPS   Y2, Y0, Y0
	VMULPS   Y0, Y0, Y3 // z = r²

	VBROADCASTSS sigConst<>+20(SB), Y4 // p = ((((p0·r + p1)·r + p2)·r + p3)·r + p4)·r + p5
	VMULPS       Y0, Y4, Y4
	VBROADCASTSS sigConst<>+24(SB), Y5
	VADDPS       Y5, Y4, Y4
	VMULPS       Y0, Y4, Y4
	VBROADCASTSS sigConst<>+28(SB), Y5
	VADDPS       Y5, Y4, Y4
	VMULPS       Y0, Y4, Y4
	VBROADCASTSS sigConst<>+32(SB), Y5
	VADDPS       Y5, Y4, Y4
	VMULPS       Y0, Y4, Y4
	VBROADCASTSS sigConst<>+36(SB), Y5
	VADDPS       Y5, Y4, Y4
	VMULPS       Y0, Y4, Y4
	VBROADCASTSS sigConst<>+40(SB), Y5
	VADDPS       Y5, Y4, Y4
	VMULPS       Y3, Y4, Y4 // p·z + r + 1
	VADDPS       Y0, Y4, Y4
	VADDPS       Y13, Y4, Y4

	VCVTPS2DQ Y1, Y1 // 2^n, as the float of exponent n
	VPADDD    Y14, Y1, Y1
	VPSLLD    $23, Y1, Y1
	VMULPS    Y1, Y4, Y4 // e^t

	VADDPS  Y13, Y4, Y4 // 1/(1 + e^t)
	VDIVPS  Y4, Y13, Y4
	VANDNPS Y4, Y7, Y4
	TESTQ   R8, R8
	JZ      sstore
	VMULPS  (SI), Y4, Y4

sstore:
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     sloop

sdone:
	VZEROUPPER
	RET

// func maxWindowAVX2(dst, in *float32, offs *int64, taps, blocks int64)
//
// For blocks units of 16 channels: dst[16j:16j+16] = the maximum over the
// taps of in[offs[t]+16j:...] (offsets in bytes). A NaN under any tap
// makes that channel's maximum NaN, as PyTorch's max pooling: an
// unordered comparison marks it, and the mark (all ones, a NaN) is ORed
// into the result.
TEXT ·maxWindowAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ taps+24(FP), R9
	MOVQ blocks+32(FP), R10
	MOVL $0xff800000, AX // -Inf
	MOVL AX, X6
	VBROADCASTSS X6, Y6
	TESTQ R10, R10
	JZ    mdone

mblock:
	VMOVAPS Y6, Y0
	VMOVAPS Y6, Y1
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	XORQ    R13, R13

mtap:
	MOVQ    (R8)(R13*8), R14
	VMOVUPS (SI)(R14*1), Y2
	VMOVUPS 32(SI)(R14*1), Y3
	VCMPPS  $3, Y2, Y2, Y7 // unordered: NaN
	VORPS   Y7, Y4, Y4
	VCMPPS  $3, Y3, Y3, Y7
	VORPS   Y7, Y5, Y5
	VMAXPS  Y2, Y0, Y0
	VMAXPS  Y3, Y1, Y1
	INCQ    R13
	CMPQ    R13, R9
	JLT     mtap

	VORPS   Y4, Y0, Y0
	VORPS   Y5, Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	DECQ    R10
	JNZ     mblock

mdone:
	VZEROUPPER
	RET
