package export

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestExportNeedsNoComputePackages checks, by reading the import lists of
// the module's source files, that package export and what it imports from
// the module use none of the packages that compute surfaces or read
// checkpoints and data: a program that only reads, plots or converts
// surface files builds without them.
func TestExportNeedsNoComputePackages(t *testing.T) {
	t.Parallel()
	const module = "github.com/landscape-go/landscape"
	// banned reports whether the package at rel, below the module, is one
	// export must not need: the run (landscape, but not its surface), a
	// backend, or a reader of data or checkpoints, or a package below one.
	banned := func(rel string) bool {
		if rel == "/landscape" {
			return true
		}
		for _, b := range []string{"/backend", "/data", "/nets", "/normalize", "/internal/pickle", "/internal/npy"} {
			if rel == b || strings.HasPrefix(rel, b+"/") {
				return true
			}
		}
		return false
	}
	imports := map[string][]string{} // package → the packages of the module it imports
	var visit func(pkg string)
	visit = func(pkg string) {
		if _, ok := imports[pkg]; ok {
			return
		}
		imports[pkg] = nil
		files, err := filepath.Glob(filepath.Join("..", strings.TrimPrefix(pkg, module), "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no source files of %s", pkg)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, spec := range f.Imports {
				path, _ := strconv.Unquote(spec.Path.Value)
				if strings.HasPrefix(path, module+"/") && !slices.Contains(imports[pkg], path) {
					imports[pkg] = append(imports[pkg], path)
					visit(path)
				}
			}
		}
	}
	visit(module + "/export")
	for pkg, deps := range imports {
		for _, dep := range deps {
			if banned(strings.TrimPrefix(dep, module)) {
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}
