package notebooks

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The landscape binary that the Python package and the notebook run, built
// from this checkout once for all tests.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// goTool returns the go command: the one on PATH, else GOROOT's.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// landscapeBinary builds cmd/landscape with CGO_ENABLED=0, once, and
// returns its path.
func landscapeBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "landscape-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "landscape")
		cmd := exec.Command(goTool(), "build", "-o", binPath, "../cmd/landscape")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/landscape: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// requirePython skips t unless python runs and imports modules; with
// LANDSCAPE_REQUIRE_PYTHON=1, as CI sets it, it fails t instead.
func requirePython(t *testing.T, modules ...string) {
	t.Helper()
	why := ""
	if _, err := exec.LookPath(python); err != nil {
		why = python + " not found"
	} else if out, err := exec.Command(python, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		why = fmt.Sprintf("%s cannot import %s: %s (Debian: apt-get install %s)",
			python, strings.Join(modules, ", "), lines[len(lines)-1], debianPackages(modules))
	}
	if why == "" {
		return
	}
	if os.Getenv("LANDSCAPE_REQUIRE_PYTHON") == "1" {
		t.Fatal(why + " (LANDSCAPE_REQUIRE_PYTHON=1)")
	}
	t.Skip("skipped: " + why)
}

// debianPackages names the Debian packages of Python modules.
func debianPackages(modules []string) string {
	var p []string
	for _, m := range modules {
		p = append(p, "python3-"+m)
	}
	return strings.Join(p, " ")
}

// pythonEnv returns the environment in which Python runs the package: the
// package in place (PYTHONPATH=python), the binary built from this
// checkout, and no bytecode written into the work tree.
func pythonEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	pkg, err := filepath.Abs("../python")
	if err != nil {
		t.Fatal(err)
	}
	return append(append(os.Environ(), "PYTHONPATH="+pkg, "LANDSCAPE_BIN="+landscapeBinary(t),
		"PYTHONDONTWRITEBYTECODE=1"), extra...)
}

// unittestSummary matches the closing lines of Python's unittest.
var unittestSummary = regexp.MustCompile(`(?m)^Ran (\d+) tests? in .*\n\n(OK.*|FAILED.*)$`)

// TestPythonPackage runs the Python package's tests (python/tests) with
// PYTHONPATH=python and the binary built from this checkout, which they
// must find (LANDSCAPE_REQUIRE_BIN=1). It needs python3 and NumPy, and
// skips without them unless LANDSCAPE_REQUIRE_PYTHON=1; the tests of
// Surface.frame need pandas and skip without it.
func TestPythonPackage(t *testing.T) {
	requirePython(t, "numpy")
	cmd := exec.Command(python, "-m", "unittest", "discover", "-v", "python/tests")
	cmd.Dir = ".."
	cmd.Env = pythonEnv(t, "LANDSCAPE_REQUIRE_BIN=1")
	out, err := cmd.CombinedOutput()
	m := unittestSummary.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("python3 -m unittest discover python/tests: %v\n%s", err, out)
	}
	t.Logf("python/tests: %s tests, %s", m[1], m[2])
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "... skipped") {
			t.Log(line)
		}
	}
}

// TestPythonPackageInstalls installs a copy of python/ with pip as the
// README says, offline (--no-build-isolation --no-deps --no-index), into a
// temporary folder, and imports it from there. It needs pip and
// setuptools (Debian's python3-pip and python3-setuptools).
func TestPythonPackageInstalls(t *testing.T) {
	// setuptools before pip (the other order breaks its distutils); wheel,
	// which setuptools before 70.1 needs to build one (Debian's python3-pip
	// depends on python3-wheel).
	requirePython(t, "setuptools", "pip", "wheel")
	dir := t.TempDir()
	src, target := filepath.Join(dir, "src"), filepath.Join(dir, "site")
	// A copy, so that the in-tree build leaves nothing in the work tree.
	err := filepath.WalkDir("../python", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../python", path)
		if d.IsDir() {
			if d.Name() == "build" || d.Name() == "__pycache__" || strings.HasSuffix(d.Name(), ".egg-info") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(src, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(src, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index",
		"--no-cache-dir", "--disable-pip-version-check", "--target", target, src)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install: %v\n%s", err, out)
	}
	cmd = exec.Command(python, "-c", "import landscape_go; print(landscape_go.__file__, landscape_go.__version__)")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONPATH="+target, "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.HasPrefix(out, []byte(filepath.Join(target, "landscape_go")+string(filepath.Separator))) {
		t.Fatalf("the installed package: %v\n%s", err, out)
	}
}
