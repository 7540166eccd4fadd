package pickle_test

import (
	"fmt"
	"log"
	"os"

	"github.com/landscape-go/landscape/internal/pickle"
)

// Reading a CIFAR-10 python batch, pickled by Python 2 with bytes keys.
func ExampleLoad() {
	f, err := os.Open("testdata/cifar_py2_p2.pkl")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	v, err := pickle.Load(f, &pickle.Options{Globals: pickle.Merge(pickle.Builtins(), pickle.NumPy())})
	if err != nil {
		log.Fatal(err)
	}
	batch := v.(*pickle.Dict)
	data, _ := batch.Lookup("data")
	arr, err := pickle.AsArray(data)
	if err != nil {
		log.Fatal(err)
	}
	labelsv, _ := batch.Lookup("labels")
	labels, _ := pickle.Ints(labelsv)
	fmt.Println(arr.DType, arr.Shape, len(labels))
	// Output: uint8 [4 48] 4
}

// A pickle that would run a shell command in Python is refused.
func ExampleLoad_refused() {
	f, err := os.Open("testdata/evil_p2.pkl")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	_, err = pickle.Load(f, &pickle.Options{Globals: pickle.Builtins()})
	fmt.Println(err)
	// Output: pickle: global posix.system is not allowed
}
