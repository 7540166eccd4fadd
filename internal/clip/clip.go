// Package clip shortens lists for error messages, so that an error about
// a file with a million bad entries stays one readable line.
package clip

import (
	"fmt"
	"strings"
)

// Max is the number of items Join shows.
const Max = 20

// Join joins at most Max items with ", ", then says how many more there are.
func Join(items []string) string {
	if len(items) > Max {
		return strings.Join(items[:Max], ", ") + fmt.Sprintf(", ... (%d more)", len(items)-Max)
	}
	return strings.Join(items, ", ")
}
