// Package progress reports how far a long computation has come: a bar
// with an ETA on a terminal, and a plain line every few seconds in a
// batch job's log.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// Meter draws a progress bar with an ETA on a terminal, and otherwise
// prints a plain line every ten seconds (for batch-job logs).
type Meter struct {
	w       io.Writer
	tty     bool
	label   string
	start   time.Time
	last    time.Time
	every   time.Duration
	started bool
	base    int // points done before this process: a resumed run's
	// Unit names what is counted, "points" unless set; "" counts without
	// naming (a race's steps, then its surface's points).
	Unit string
}

// New returns a meter that writes to w, each line begun with label. w is
// taken for a terminal if it is an *os.File on one.
func New(w io.Writer, label string) *Meter {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	every := 10 * time.Second
	if tty {
		every = 100 * time.Millisecond
	}
	return &Meter{w: w, tty: tty, label: label, start: time.Now(), every: every, Unit: "points"}
}

// Update reports done of total points; its signature is that of
// landscape.Options.Progress. Rates and times count only the
// points this process computed, so a resumed run's first line is not
// inflated by the points it found saved.
func (p *Meter) Update(done, total int) {
	now := time.Now()
	if !p.started {
		p.started, p.base = true, done-1
	}
	if done < total && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	eta := "?"
	ours := done - p.base
	if ours > 0 {
		eta = (time.Duration(float64(elapsed) / float64(ours) * float64(total-done))).Round(time.Second).String()
	}
	rate := float64(ours) / elapsed.Seconds()
	unit := ""
	if p.Unit != "" {
		unit = " " + p.Unit
	}
	if !p.tty {
		fmt.Fprintf(p.w, "%s: %d/%d%s, %.2f%s/s, %s left\n", p.label, done, total, unit, rate, unit, eta)
		return
	}
	const width = 30
	fill := width * done / max(total, 1)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d %3.0f%% %.2f pt/s ETA %s   ", p.label, bar, done, total, 100*float64(done)/float64(max(total, 1)), rate, eta)
	if done == total {
		fmt.Fprintln(p.w)
	}
}
