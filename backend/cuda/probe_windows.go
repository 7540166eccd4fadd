package cuda

// Probe reports that this build does not look for GPUs: the CUDA driver is
// loaded with dlopen, which purego offers on Linux and macOS only.
func Probe() Report {
	return Report{Why: "looking for NVIDIA GPUs is not supported on Windows builds yet"}
}
