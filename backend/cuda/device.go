package cuda

import "fmt"

// Device describes one GPU.
type Device struct {
	Index       int
	Name        string
	Major       int // compute capability
	Minor       int
	TotalMemory uint64 // bytes
}

func (d Device) String() string {
	return fmt.Sprintf("cuda:%d %s (compute %d.%d, %.1f GiB)", d.Index, d.Name, d.Major, d.Minor, float64(d.TotalMemory)/(1<<30))
}

// Report is what Probe found.
type Report struct {
	Driver  string // e.g. "CUDA driver 13.0"; empty when the driver did not load
	Devices []Device
	// Why is set when there is no usable device: what failed.
	Why string
}
