package checkpoint_test

import (
	"fmt"
	"log"

	"github.com/landscape-go/landscape/nets/checkpoint"
)

func ExampleLoad() {
	// A legacy torch.save file of a DataParallel model, under a .tar name.
	sd, format, err := checkpoint.Load("testdata/legacy.pth.tar")
	if err != nil {
		log.Fatal(err)
	}
	w, _ := sd.Get("fc.weight")
	fmt.Println(format, sd.Names(), w.Shape, w.DType)
	// Output: torch-legacy [fc.weight fc.bias] [2 3] float32
}
