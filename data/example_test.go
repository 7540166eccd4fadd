package data_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log"

	"github.com/landscape-go/landscape/data"
)

func ExampleParseSpec() {
	spec, err := data.ParseSpec("fashion-mnist:/usr/share/datasets/fashion-mnist")
	if err != nil {
		log.Fatal(err)
	}
	mean, std := data.DefaultNorm(spec.Kind)
	fmt.Println(spec.Kind, spec.Path, mean, std)
	// Output:
	// fashion-mnist /usr/share/datasets/fashion-mnist [0.286] [0.353]
}

// idx returns an IDX file of unsigned bytes.
func idx(dims []uint32, pixels []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, pixels...)
}

func ExampleReadIDX() {
	// Two 2×2 images with labels 7 and 3, as a binary might embed them.
	images := idx([]uint32{2, 2, 2}, []byte{0, 51, 102, 255, 255, 255, 0, 0})
	labels := idx([]uint32{2}, []byte{7, 3})
	d, err := data.ReadIDX(bytes.NewReader(images), bytes.NewReader(labels), data.MNIST, data.Test,
		&data.Options{Mean: []float64{0}, Std: []float64{1}}) // ToTensor's scaling only
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d×%d×%d×%d, %d classes\n", d.N, d.C, d.H, d.W, d.Classes)
	for i := range d.N {
		fmt.Println(d.Y[i], d.Image(i))
	}
	// Output:
	// 2×1×2×2, 10 classes
	// 7 [0 0.2 0.4 1]
	// 3 [1 1 0 0]
}
