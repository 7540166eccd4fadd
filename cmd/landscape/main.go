package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/landscape-go/landscape/internal/suggest"
)

// command is one subcommand: a name, a one-line summary and a run function
// that parses its own flags.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"surface", "compute a 1D or 2D loss surface and write it as Parquet", cmdSurface},
		{"merge", "join the part files of a sharded run into one surface", cmdMerge},
		{"demo", "compare the surfaces of an embedded ResNet-56 with and without skip connections (no downloads, no arguments)", cmdDemo},
		{"directions", "draw filter-normalised random directions and write them to a file", cmdDirections},
		{"trajectory", "PCA directions of a training trajectory, and the path projected on them", cmdTrajectory},
		{"plane", "directions of the plane through three checkpoints (Gram-Schmidt), and their coordinates", cmdPlane},
		{"hessian", "curvature at a checkpoint: extreme eigenvalues of the Hessian, its trace and eigenvalue density", cmdHessian},
		{"inspect", "list the tensors of a checkpoint file, or an ONNX model's graph", cmdInspect},
		{"devices", "report the CPU (and its BLAS) and the NVIDIA GPUs this machine offers", cmdDevices},
		{"models", "list the architectures of the model zoo", cmdModels},
		{"plot", "draw contour, filled-contour, heat-map, 3D and 1D figures of a surface (PNG, SVG, PDF)", cmdPlot},
		{"compare", "compare surfaces: side-by-side contours and a table of flatness figures", cmdCompare},
		{"view", "write an interactive page of surfaces (rotatable 3D, contours with a readout), and meshes (.obj .ply .glb)", cmdView},
		{"export-vtk", "write a surface as VTK PolyData (.vtp) for ParaView", cmdExportVTK},
		{"convert", "write a surface as CSV or JSON lines, with grid indices and the provenance beside it", cmdConvert},
		{"train", "train a network (CPU or GPU) with one of torch.optim's optimizers, a checkpoint per epoch", cmdTrain},
		{"race", "train with several optimizers from one initialisation and draw their paths on one surface", cmdRace},
		{"toy", "race optimizers on a function of two variables (Rosenbrock, Himmelblau, a saddle) and draw their paths", cmdToy},
		{"version", "print the version", cmdVersion},
	}
}

// usageError marks errors in how the command was called (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// The collector's headroom, unless GOGC says otherwise, is gcPercent of
// the live heap but at least gcFloor bytes (or gcMaxPercent of a heap
// smaller than a tenth of that: at start-up). The heap is mostly weights,
// directions and activations that live the whole run, in large arrays
// without pointers that cost the collector nothing to mark; Go's default
// 100% would let the heap grow to twice them (vit_b_16: a 5.4 GB peak for
// 2.7 GB live, 3.4 GB at 25%, for about a tenth more CPU time in the
// collector). A small model's live heap is small, though, and 25% of it
// would have the collector run after every few nodes of the reference
// evaluator, which makes a fresh tensor per node (the benchmark's language
// model: twice as slow as with a 128 MB floor).
const (
	gcPercent    = 25
	gcFloor      = 128 << 20
	gcMaxPercent = 1000
)

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		tuneGC()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and maps errors to exit codes: 0 success,
// 1 failure, 2 usage error, 3 internal error (a bug: a panic), 130
// interrupted. A panic would otherwise exit with 2, the usage code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dispatch(ctx, commands(), args, stdout, stderr)
}

// dispatch is run with the commands given.
func dispatch(ctx context.Context, cmds []command, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "landscape: internal error (please report it): %v\n%s", r, debug.Stack())
			code = 3
		}
	}()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, context.Canceled) || ctx.Err() != nil:
			fmt.Fprintln(stderr, "landscape: interrupted")
			return 130
		case errors.As(err, new(usageError)):
			fmt.Fprintf(stderr, "landscape %s: %s\nRun 'landscape %s -h' for its flags.\n", c.name, message(err), c.name)
			return 2
		default:
			fmt.Fprintf(stderr, "landscape %s: %s\n", c.name, message(err))
			return 1
		}
	}
	fmt.Fprintf(stderr, "landscape: unknown command %q\n", args[0])
	printUsage(stderr)
	return 2
}

// message is err's text after "landscape CMD: ": without the library's
// own "landscape: " before it, which would say the name twice.
func message(err error) string {
	return strings.TrimPrefix(err.Error(), "landscape: ")
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "landscape computes loss landscapes of neural networks (Li et al. 2018).\n\nUsage: landscape <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'landscape <command> -h' for a command's flags.")
}

// newFlags returns a flag set whose errors become usage errors.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: landscape %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, flags and up to want positional arguments in any
// order (the flag package alone stops at the first positional one), and
// returns the positional arguments.
func parse(fs *flag.FlagSet, args []string, want int) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{withSuggestion(fs, err)}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > want {
		return usagef("unexpected argument %q", pos[want])
	}
	return fs.Parse(pos) // leaves them as fs.Args()
}

// withSuggestion adds to the flag package's "flag provided but not
// defined: -sample" the defined flag closest to the one given, if one is
// close: "(did you mean --samples?)".
func withSuggestion(fs *flag.FlagSet, err error) error {
	given, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: ")
	if !ok {
		return err
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if best, ok := suggest.Closest(strings.TrimLeft(given, "-"), names); ok {
		return fmt.Errorf("%w (did you mean --%s?)", err, best)
	}
	return err
}

// tuneGC sets the collector's headroom to gcPercent of the live heap or
// gcFloor, whichever is larger, and sets it again after every collection
// that changes it by more than a tenth: a finalizer, set again each time,
// runs once per cycle. It returns the function that stops it (for tests).
func tuneGC() (stop func()) {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	percent := -1
	var stopped atomic.Bool
	var arm func()
	arm = func() {
		sentinel := new([64]byte) // too large for the tiny allocator, whose objects may never be finalised
		runtime.SetFinalizer(sentinel, func(*[64]byte) {
			if stopped.Load() {
				return
			}
			metrics.Read(live)
			p := gcPercent
			if live[0].Value.Kind() == metrics.KindUint64 {
				if b := live[0].Value.Uint64(); b > 0 {
					p = max(p, int(min(100*gcFloor/b, gcMaxPercent)))
				}
			}
			if percent < 0 || 10*abs(p-percent) > percent {
				debug.SetGCPercent(p)
				percent = p
			}
			arm()
		})
	}
	debug.SetGCPercent(gcPercent)
	arm()
	return func() { stopped.Store(true) }
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
