package cpu

import "golang.org/x/sys/cpu"

//go:generate go run ./internal/asmgen

var (
	avx512 = &kernelSet{name: "AVX-512", gemm: kernelsAVX512, wgInput: wgInputAVX512, wgOutputs: wgOutputsAVX512, lanes: 16}
	avx2   = &kernelSet{name: "AVX2", gemm: kernelsAVX2, wgInput: wgInputAVX2, wgOutputs: wgOutputsAVX2, lanes: 8}
)

func init() {
	// x/sys/cpu reports AVX-512F and AVX2 only where the operating system
	// saves the registers.
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		kernelSets = append(kernelSets, avx2)
		fastKernels = avx2
		openBLASCore = "Haswell"
	}
	if cpu.X86.HasAVX512F {
		kernelSets = append(kernelSets, avx512)
		fastKernels = avx512
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512CD {
		openBLASCore = "SkylakeX"
	}
}
