package pickle

import (
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
)

// Repr bounds: a value is shown at most reprDepth containers deep and
// reprValues values in all, and a str, bytes or int value is cut after
// reprBytes bytes; whatever is left out is shown as "...". A decoded
// value may nest a million levels deep or, sharing memo entries, hold
// 2^100 leaves in a few hundred bytes of pickle: printing it whole would
// exhaust the stack or the memory.
const (
	reprDepth  = 8
	reprValues = 64
	reprBytes  = 64
)

// Repr returns a short Python-like representation of a decoded value for
// messages, such as (1, 'a', b'\x00', [2.5, None]). It is bounded
// whatever v holds: deep nesting, shared or cyclic containers and long
// strings are cut short with "...". Tuple, *List, *Dict and *Set print
// with Repr under every fmt verb, so %v of a hostile value is safe.
func Repr(v any) string {
	r := &reprer{left: reprValues}
	r.value(v, 0)
	return r.b.String()
}

type reprer struct {
	b    strings.Builder
	left int // values still to show
}

func (r *reprer) value(v any, depth int) {
	if r.left <= 0 {
		r.b.WriteString("...")
		return
	}
	r.left--
	switch v := v.(type) {
	case nil:
		r.b.WriteString("None")
	case bool:
		if v {
			r.b.WriteString("True")
		} else {
			r.b.WriteString("False")
		}
	case int64:
		r.b.WriteString(strconv.FormatInt(v, 10))
	case *big.Int:
		if v.BitLen() > 4*reprBytes {
			fmt.Fprintf(&r.b, "<int of %d bits>", v.BitLen())
		} else {
			r.b.WriteString(v.String())
		}
	case float64:
		r.b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case string:
		r.quote("", v)
	case Bytes:
		r.quote("b", string(v))
	case Tuple:
		r.items("(", ")", v, depth)
	case *List:
		if v == nil {
			r.b.WriteString("<nil>")
			return
		}
		r.items("[", "]", v.Items, depth)
	case *Set:
		if v == nil {
			r.b.WriteString("<nil>")
		} else if v.Frozen {
			r.items("frozenset({", "})", v.Items, depth)
		} else {
			r.items("{", "}", v.Items, depth)
		}
	case *Dict:
		if v == nil {
			r.b.WriteString("<nil>")
			return
		}
		r.dict(v, depth)
	case *NDArray:
		if v == nil || v.Array == nil {
			r.b.WriteString("numpy.ndarray()")
		} else if len(v.Array.Shape) > reprDepth {
			fmt.Fprintf(&r.b, "numpy.ndarray(%s, %d dimensions)", v.Array.DType, len(v.Array.Shape))
		} else {
			fmt.Fprintf(&r.b, "numpy.ndarray(%s, %v)", v.Array.DType, v.Array.Shape)
		}
	case *DType:
		if v == nil {
			r.b.WriteString("<nil>")
			return
		}
		r.quote("numpy.dtype(", v.Descr())
		r.b.WriteString(")")
	default:
		r.b.WriteString("<" + TypeName(v) + ">")
	}
}

// quote writes s quoted, cut after reprBytes bytes.
func (r *reprer) quote(prefix, s string) {
	r.b.WriteString(prefix)
	if len(s) <= reprBytes {
		r.b.WriteString(strconv.Quote(s))
		return
	}
	r.b.WriteString(strconv.Quote(s[:reprBytes]))
	fmt.Fprintf(&r.b, "...(%d bytes)", len(s))
}

func (r *reprer) items(open, close string, items []any, depth int) {
	r.b.WriteString(open)
	if depth >= reprDepth && len(items) > 0 {
		r.b.WriteString("...")
	} else {
		for i, e := range items {
			if i > 0 {
				r.b.WriteString(", ")
			}
			if r.left <= 0 {
				r.b.WriteString("...")
				break
			}
			r.value(e, depth+1)
		}
		if open == "(" && len(items) == 1 {
			r.b.WriteString(",")
		}
	}
	r.b.WriteString(close)
}

func (r *reprer) dict(d *Dict, depth int) {
	r.b.WriteString("{")
	if depth >= reprDepth && d.Len() > 0 {
		r.b.WriteString("...")
	} else {
		for i, k := range d.keys {
			if i > 0 {
				r.b.WriteString(", ")
			}
			if r.left <= 0 {
				r.b.WriteString("...")
				break
			}
			r.value(k, depth+1)
			r.b.WriteString(": ")
			r.value(d.vals[i], depth+1)
		}
	}
	r.b.WriteString("}")
}

// Format prints t as [Repr] does, whatever the verb.
func (t Tuple) Format(f fmt.State, verb rune) { io.WriteString(f, Repr(t)) }

// Format prints l as [Repr] does, whatever the verb.
func (l *List) Format(f fmt.State, verb rune) { io.WriteString(f, Repr(l)) }

// Format prints d as [Repr] does, whatever the verb.
func (d *Dict) Format(f fmt.State, verb rune) { io.WriteString(f, Repr(d)) }

// Format prints s as [Repr] does, whatever the verb.
func (s *Set) Format(f fmt.State, verb rune) { io.WriteString(f, Repr(s)) }
