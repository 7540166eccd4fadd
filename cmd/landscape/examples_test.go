package main

import (
	"io"
	"os"
	"regexp"
	"testing"
)

// The cluster examples pass the surface command only flags it has: a flag
// renamed in the command and not in examples/ fails here, not on a user's
// cluster. The Slurm scripts run for real in scripts/slurm-test.sh; the
// Kubernetes manifest has no cluster here.
func TestClusterExamplesUseTheSurfaceCommandsFlags(t *testing.T) {
	t.Parallel()
	var f surfaceFlags
	fs := newFlags("surface", "", io.Discard)
	f.register(fs)
	comment := regexp.MustCompile(`(?m)^\s*#.*$`)
	flagRE := regexp.MustCompile(`(?m)(?:^\s*-\s+|\s)--([a-z0-9-]+)`)
	for _, file := range []string{"../../examples/kubernetes/indexed-job.yaml", "../../examples/slurm/surface.sbatch"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, m := range flagRE.FindAllSubmatch(comment.ReplaceAll(b, nil), -1) {
			name := string(m[1])
			found++
			if fs.Lookup(name) == nil {
				t.Errorf("%s passes --%s, which landscape surface does not have", file, name)
			}
		}
		if found < 8 {
			t.Errorf("%s: found %d flags of landscape surface, want its whole command line", file, found)
		}
	}
}
