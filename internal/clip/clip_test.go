package clip

import (
	"fmt"
	"testing"
)

func TestJoinShowsAtMostMaxItems(t *testing.T) {
	t.Parallel()
	var items []string
	for i := range 25 {
		items = append(items, fmt.Sprint(i))
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, ""},
		{2, "0, 1"},
		{20, "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19"},
		{25, "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, ... (5 more)"},
	} {
		if got := Join(items[:tc.n]); got != tc.want {
			t.Errorf("Join of %d items = %q, want %q", tc.n, got, tc.want)
		}
	}
}
