package cuda

import (
	"os"
	"strings"
	"testing"
)

// Probe must never fail a machine without a GPU: it says why there is none.
// On a GPU machine (LANDSCAPE_REQUIRE_GPU=1) it must find a device.
func TestProbe(t *testing.T) {
	r := Probe()
	t.Logf("driver %q, devices %v, why %q", r.Driver, r.Devices, r.Why)
	if os.Getenv("LANDSCAPE_REQUIRE_GPU") == "1" {
		if len(r.Devices) == 0 {
			t.Fatalf("LANDSCAPE_REQUIRE_GPU=1 but no device: %s", r.Why)
		}
		for _, d := range r.Devices {
			if d.Name == "" || d.Major < 3 || d.TotalMemory == 0 {
				t.Errorf("implausible device %+v", d)
			}
		}
		return
	}
	if len(r.Devices) == 0 && !strings.Contains(r.Why, "driver") && !strings.Contains(r.Why, "device") && !strings.Contains(r.Why, "cuInit") {
		t.Errorf("no device and an unhelpful reason %q", r.Why)
	}
}
