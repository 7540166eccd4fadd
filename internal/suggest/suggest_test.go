package suggest

import "testing"

func TestDistanceCountsEdits(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"sample", "samples", 1},
		{"flaw", "lawn", 2},
		{"same", "same", 0},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.want)
		}
	}
}

func TestClosestPicksNearestWithinTwoEdits(t *testing.T) {
	flags := []string{"samples", "sample-seed", "seed", "split", "size"}
	for _, c := range []struct {
		given, want string
		ok          bool
	}{
		{"sample", "samples", true},
		{"sed", "seed", true},
		{"sise", "size", true}, // one substitution; ties broken by name
		{"xyzzy", "", false},   // nothing near
		{"s", "", false},       // too short to guess from
		{"samplez-seed", "sample-seed", true},
	} {
		got, ok := Closest(c.given, flags)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("Closest(%q) = %q, %v; want %q, %v", c.given, got, ok, c.want, c.ok)
		}
	}
}
