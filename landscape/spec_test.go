package landscape

import (
	"strings"
	"testing"
)

// Device names: the CPU, a GPU by ordinal, or all of them.
func TestParseDevice(t *testing.T) {
	for _, c := range []struct {
		name    string
		kind    string
		ordinal int
		err     string
	}{
		{"", "cpu", 0, ""}, {"cpu", "cpu", 0, ""}, {"auto", "auto", 0, ""}, {"cuda", "cuda", 0, ""},
		{"cuda:3", "cuda", 3, ""}, {"cuda:all", "cuda", AllGPUs, ""},
		{"cuda:-1", "", 0, "cuda:all"}, {"cuda:x", "", 0, "ordinal"}, {"tpu", "", 0, "unknown device"},
	} {
		kind, ordinal, err := ParseDevice(c.name)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want an error saying %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || kind != c.kind || ordinal != c.ordinal {
			t.Errorf("%q: %s, %d, %v; want %s, %d", c.name, kind, ordinal, err, c.kind, c.ordinal)
		}
	}
}
