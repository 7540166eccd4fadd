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
