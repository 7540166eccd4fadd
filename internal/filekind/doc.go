// Package filekind tells what a file looks like from its first bytes, so
// that an error about a file given where another kind was expected (a CSV
// as a direction file, a checkpoint as a surface) can say what it is
// instead of showing only its parser's complaint.
//
// # Overview
//
// [Detect] looks at the first bytes of a file and its size, [Of] at the
// file at a path; both return a [Kind], whose String is a phrase for an
// error message: "a safetensors file (the format of checkpoints and
// direction files)". [Unknown] means the bytes say nothing certain, and
// the parser's own error is then the better one.
package filekind
