//go:build amd64

#include "textflag.h"

// 16x16 transposes of float32 tiles for the differentiator's layout copies
// (diff_direct.go), AVX-512: sixteen rows loaded, transposed in registers,
// sixteen rows stored. One side of a copy is the planes (rows a stride
// apart), the other the pixels of the channels-last layout, which may
// wrap from one image row to the next across its border: their rows are
// given as a table of sixteen byte offsets. Strides are in bytes.

// TRANSPOSE16 transposes the tile in Z0-Z15 (row k in Zk) in place, with
// Z16-Z31 for scratch: the usual four rounds of unpacks and lane shuffles,
// after which Zk holds column k.
#define TRANSPOSE16 \
	VUNPCKLPS Z1, Z0, Z16; \
	VUNPCKHPS Z1, Z0, Z17; \
	VUNPCKLPS Z3, Z2, Z18; \
	VUNPCKHPS Z3, Z2, Z19; \
	VUNPCKLPS Z5, Z4, Z20; \
	VUNPCKHPS Z5, Z4, Z21; \
	VUNPCKLPS Z7, Z6, Z22; \
	VUNPCKHPS Z7, Z6, Z23; \
	VUNPCKLPS Z9, Z8, Z24; \
	VUNPCKHPS Z9, Z8, Z25; \
	VUNPCKLPS Z11, Z10, Z26; \
	VUNPCKHPS Z11, Z10, Z27; \
	VUNPCKLPS Z13, Z12, Z28; \
	VUNPCKHPS Z13, Z12, Z29; \
	VUNPCKLPS Z15, Z14, Z30; \
	VUNPCKHPS Z15, Z14, Z31; \
	VUNPCKLPD Z18, Z16, Z0; \
	VUNPCKHPD Z18, Z16, Z1; \
	VUNPCKLPD Z19, Z17, Z2; \
	VUNPCKHPD Z19, Z17, Z3; \
	VUNPCKLPD Z22, Z20, Z4; \
	VUNPCKHPD Z22, Z20, Z5; \
	VUNPCKLPD Z23, Z21, Z6; \
	VUNPCKHPD Z23, Z21, Z7; \
	VUNPCKLPD Z26, Z24, Z8; \
	VUNPCKHPD Z26, Z24, Z9; \
	VUNPCKLPD Z27, Z25, Z10; \
	VUNPCKHPD Z27, Z25, Z11; \
	VUNPCKLPD Z30, Z28, Z12; \
	VUNPCKHPD Z30, Z28, Z13; \
	VUNPCKLPD Z31, Z29, Z14; \
	VUNPCKHPD Z31, Z29, Z15; \
	VSHUFF32X4 $0x88, Z4, Z0, Z16; \
	VSHUFF32X4 $0xdd, Z4, Z0, Z20; \
	VSHUFF32X4 $0x88, Z5, Z1, Z17; \
	VSHUFF32X4 $0xdd, Z5, Z1, Z21; \
	VSHUFF32X4 $0x88, Z6, Z2, Z18; \
	VSHUFF32X4 $0xdd, Z6, Z2, Z22; \
	VSHUFF32X4 $0x88, Z7, Z3, Z19; \
	VSHUFF32X4 $0xdd, Z7, Z3, Z23; \
	VSHUFF32X4 $0x88, Z12, Z8, Z24; \
	VSHUFF32X4 $0xdd, Z12, Z8, Z28; \
	VSHUFF32X4 $0x88, Z13, Z9, Z25; \
	VSHUFF32X4 $0xdd, Z13, Z9, Z29; \
	VSHUFF32X4 $0x88, Z14, Z10, Z26; \
	VSHUFF32X4 $0xdd, Z14, Z10, Z30; \
	VSHUFF32X4 $0x88, Z15, Z11, Z27; \
	VSHUFF32X4 $0xdd, Z15, Z11, Z31; \
	VSHUFF32X4 $0x88, Z24, Z16, Z0; \
	VSHUFF32X4 $0xdd, Z24, Z16, Z8; \
	VSHUFF32X4 $0x88, Z25, Z17, Z1; \
	VSHUFF32X4 $0xdd, Z25, Z17, Z9; \
	VSHUFF32X4 $0x88, Z26, Z18, Z2; \
	VSHUFF32X4 $0xdd, Z26, Z18, Z10; \
	VSHUFF32X4 $0x88, Z27, Z19, Z3; \
	VSHUFF32X4 $0xdd, Z27, Z19, Z11; \
	VSHUFF32X4 $0x88, Z28, Z20, Z4; \
	VSHUFF32X4 $0xdd, Z28, Z20, Z12; \
	VSHUFF32X4 $0x88, Z29, Z21, Z5; \
	VSHUFF32X4 $0xdd, Z29, Z21, Z13; \
	VSHUFF32X4 $0x88, Z30, Z22, Z6; \
	VSHUFF32X4 $0xdd, Z30, Z22, Z14; \
	VSHUFF32X4 $0x88, Z31, Z23, Z7; \
	VSHUFF32X4 $0xdd, Z31, Z23, Z15

// func transposeTile(dst *float32, dstStride int, src *float32, offs *[16]int64, add bool)
//
// Row k of the tile starts at src + offs[k]; row k of its transpose is
// stored at dst + k·dstStride, or added to what is there with add.
TEXT ·transposeTile(SB), NOSPLIT, $0-33
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ offs+24(FP), R10
	MOVQ    0(R10), R11
	VMOVUPS (SI)(R11*1), Z0
	MOVQ    8(R10), R11
	VMOVUPS (SI)(R11*1), Z1
	MOVQ    16(R10), R11
	VMOVUPS (SI)(R11*1), Z2
	MOVQ    24(R10), R11
	VMOVUPS (SI)(R11*1), Z3
	MOVQ    32(R10), R11
	VMOVUPS (SI)(R11*1), Z4
	MOVQ    40(R10), R11
	VMOVUPS (SI)(R11*1), Z5
	MOVQ    48(R10), R11
	VMOVUPS (SI)(R11*1), Z6
	MOVQ    56(R10), R11
	VMOVUPS (SI)(R11*1), Z7
	MOVQ    64(R10), R11
	VMOVUPS (SI)(R11*1), Z8
	MOVQ    72(R10), R11
	VMOVUPS (SI)(R11*1), Z9
	MOVQ    80(R10), R11
	VMOVUPS (SI)(R11*1), Z10
	MOVQ    88(R10), R11
	VMOVUPS (SI)(R11*1), Z11
	MOVQ    96(R10), R11
	VMOVUPS (SI)(R11*1), Z12
	MOVQ    104(R10), R11
	VMOVUPS (SI)(R11*1), Z13
	MOVQ    112(R10), R11
	VMOVUPS (SI)(R11*1), Z14
	MOVQ    120(R10), R11
	VMOVUPS (SI)(R11*1), Z15
	TRANSPOSE16
	MOVBLZX add+32(FP), AX
	TESTQ   AX, AX
	JNZ     ttadd
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Z8, (DI)
	VMOVUPS Z9, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Z10, (DI)
	VMOVUPS Z11, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Z12, (DI)
	VMOVUPS Z13, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Z14, (DI)
	VMOVUPS Z15, (DI)(DX*1)
	VZEROUPPER
	RET

ttadd:
	VADDPS  (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	VADDPS  (DI)(DX*1), Z1, Z1
	VMOVUPS Z1, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VADDPS  (DI), Z2, Z2
	VMOVUPS Z2, (DI)
	VADDPS  (DI)(DX*1), Z3, Z3
	VMOVUPS Z3, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VADDPS  (DI), Z4, Z4
	VMOVUPS Z4, (DI)
	VADDPS  (DI)(DX*1), Z5, Z5
	VMOVUPS Z5, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VADDPS  (DI), Z6, Z6
	VMOVUPS Z6, (DI)
	VADDPS  (DI)(DX*1), Z7, Z7
	VMOVUPS Z7, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VADDPS  (DI), Z8, Z8
	VMOVUPS Z8, (DI)
	VADDPS  (DI)(DX*1), Z9, Z9
	VMOVUPS Z9, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VADDPS  (DI), Z10, Z10
	VMOVUPS Z10, (DI)
	VADDPS  (DI)(DX*1), Z11, Z11
	VMOVUPS Z11, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VADDPS  (DI), Z12, Z12
	VMOVUPS Z12, (DI)
	VADDPS  (DI)(DX*1), Z13, Z13
	VMOVUPS Z13, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	VADDPS  (DI), Z14, Z14
	VMOVUPS Z14, (DI)
	VADDPS  (DI)(DX*1), Z15, Z15
	VMOVUPS Z15, (DI)(DX*1)
	VZEROUPPER
	RET

// func transposeTileScatter(dst *float32, offs *[16]int64, src *float32, srcStride int)
//
// The tile's rows start at src, srcStride apart; row k of its transpose is
// stored at dst + offs[k].
TEXT ·transposeTileScatter(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ offs+8(FP), R10
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), BX
	VMOVUPS (SI), Z0
	VMOVUPS (SI)(BX*1), Z1
	LEAQ    (SI)(BX*2), SI
	VMOVUPS (SI), Z2
	VMOVUPS (SI)(BX*1), Z3
	LEAQ    (SI)(BX*2), SI
	VMOVUPS (SI), Z4
	VMOVUPS (SI)(BX*1), Z5
	LEAQ    (SI)(BX*2), SI
	VMOVUPS (SI), Z6
	VMOVUPS (SI)(BX*1), Z7
	LEAQ    (SI)(BX*2), SI
	VMOVUPS (SI), Z8
	VMOVUPS (SI)(BX*1), Z9
	LEAQ    (SI)(BX*2), SI
	VMOVUPS (SI), Z10
	VMOVUPS (SI)(BX*1), Z11
	LEAQ    (SI)(BX*2), SI
	VMOVUPS (SI), Z12
	VMOVUPS (SI)(BX*1), Z13
	LEAQ    (SI)(BX*2), SI
	VMOVUPS (SI), Z14
	VMOVUPS (SI)(BX*1), Z15
	TRANSPOSE16
	MOVQ    0(R10), R11
	VMOVUPS Z0, (DI)(R11*1)
	MOVQ    8(R10), R11
	VMOVUPS Z1, (DI)(R11*1)
	MOVQ    16(R10), R11
	VMOVUPS Z2, (DI)(R11*1)
	MOVQ    24(R10), R11
	VMOVUPS Z3, (DI)(R11*1)
	MOVQ    32(R10), R11
	VMOVUPS Z4, (DI)(R11*1)
	MOVQ    40(R10), R11
	VMOVUPS Z5, (DI)(R11*1)
	MOVQ    48(R10), R11
	VMOVUPS Z6, (DI)(R11*1)
	MOVQ    56(R10), R11
	VMOVUPS Z7, (DI)(R11*1)
	MOVQ    64(R10), R11
	VMOVUPS Z8, (DI)(R11*1)
	MOVQ    72(R10), R11
	VMOVUPS Z9, (DI)(R11*1)
	MOVQ    80(R10), R11
	VMOVUPS Z10, (DI)(R11*1)
	MOVQ    88(R10), R11
	VMOVUPS Z11, (DI)(R11*1)
	MOVQ    96(R10), R11
	VMOVUPS Z12, (DI)(R11*1)
	MOVQ    104(R10), R11
	VMOVUPS Z13, (DI)(R11*1)
	MOVQ    112(R10), R11
	VMOVUPS Z14, (DI)(R11*1)
	MOVQ    120(R10), R11
	VMOVUPS Z15, (DI)(R11*1)
	VZEROUPPER
	RET
