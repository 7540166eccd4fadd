package export

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// jsonObject decodes one JSON object, keeping its keys in order and its
// numbers as written (null as "null").
func jsonObject(line []byte) (keys, values []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, nil, err
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		v, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, k.(string))
		switch v := v.(type) {
		case nil:
			values = append(values, "null")
		case json.Number:
			values = append(values, v.String())
		default:
			values = append(values, "not a number: "+strings.TrimSpace(string(line)))
		}
	}
	_, err = dec.Token() // }
	return keys, values, err
}

// TestEncodeTextJSONLinesQuotesMetricNames checks that metric names that
// need escaping in JSON are escaped.
func TestEncodeTextJSONLinesQuotesMetricNames(t *testing.T) {
	t.Parallel()
	metrics := []string{`a "b"`, "c\nd", `e\f`}
	s := testSurface(2, 2, 1, metrics)
	var buf bytes.Buffer
	if err := EncodeText(&buf, s, JSONLines); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(buf.String(), "\n")
	keys, _, err := jsonObject([]byte(first))
	if want := append([]string{"x", "y", "i", "j"}, metrics...); err != nil || !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %q (%v), want %q", keys, err, want)
	}
}
