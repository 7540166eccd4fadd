package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate checks that the committed kernels are what this
// generator writes: run go generate in backend/cpu after changing it.
func TestGeneratedUpToDate(t *testing.T) {
	asmSrc, goSrc, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"asm_amd64.s": asmSrc, "asm_amd64.go": goSrc} {
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("backend/cpu/%s differs from what asmgen writes: run go generate in backend/cpu", name)
		}
	}
}
