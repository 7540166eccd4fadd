package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressAfterResumeCountsOnlyNewPoints resumes at 100 of 200 points
// and computes one in a second: the rate is 1 point/s and the time left
// 99 s, not 101 points/s because of the points found saved.
func TestProgressAfterResumeCountsOnlyNewPoints(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := New(&buf, "surface")
	p.start = time.Now().Add(-time.Second)
	p.Update(101, 200)
	if got := buf.String(); !strings.Contains(got, "101/200 points, 1.00 points/s, 1m39s left") {
		t.Errorf("first line after a resume: %q", got)
	}
}
