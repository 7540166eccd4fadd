package torch

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/internal/pickle"
)

// TestObjectsBesideTheStateDictAreInert loads checkpoints that training
// scripts commonly save, {'state_dict', 'args': argparse.Namespace,
// 'optimizer', 'acc'}, in both formats: the state dict is read and the
// Namespace is never executed, only stood in for. A Namespace inside the
// state dict is still refused, naming it.
func TestObjectsBesideTheStateDictAreInert(t *testing.T) {
	t.Parallel()
	var want []wantTensor
	b, err := os.ReadFile("testdata/args.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"args_zip.pt", "args_legacy.pt"} {
		sd, err := Load(filepath.Join("testdata", file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if sd.Len() != len(want) {
			t.Fatalf("%s: %d tensors, want %d: %v", file, sd.Len(), len(want), sd.Names())
		}
		for _, w := range want {
			g, ok := sd.Get(w.Name)
			if !ok {
				t.Fatalf("%s: no %s", file, w.Name)
			}
			for i, v := range w.Data {
				if g.Data[i] != float32(v) {
					t.Fatalf("%s: %s[%d] = %v, torch.load %v", file, w.Name, i, g.Data[i], v)
				}
			}
		}
	}
	_, err = Load(filepath.Join("testdata", "args_inside_zip.pt"))
	if !errors.Is(err, pickle.ErrGlobal) || !strings.Contains(err.Error(), "argparse.Namespace") {
		t.Errorf("a Namespace inside the state dict: %v, want it refused by name", err)
	}
}
