// Package suggest finds, for a name that is not known, the known name it
// was most likely meant to be: "did you mean --samples?" for a mistyped
// flag.
package suggest

// Closest returns the candidate at the least edit distance from given, if
// that distance is at most two and less than half of given's length
// (rounded up), so that short names are not matched to anything. Ties go to
// the candidate first in lexical order. ok is false if none is close.
func Closest(given string, candidates []string) (best string, ok bool) {
	limit := min(2, (len(given)+1)/2)
	bestDist := limit + 1
	for _, c := range candidates {
		if d := Distance(given, c); d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	return best, bestDist <= limit
}

// Distance is the Levenshtein distance between a and b, in bytes: the
// fewest insertions, deletions and substitutions that turn a into b.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
