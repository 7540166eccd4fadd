package optim_test

import (
	"fmt"

	"github.com/landscape-go/landscape/landscape/optim"
)

// Minimise the bowl f(x, y) = (x−3)² + 10·(y+1)² with Adam and a linear
// warm-up followed by cosine annealing, filling the gradient by hand where
// a training loop would run a backward pass. The learning rate printed is
// the one the next step will use.
func Example() {
	xy := []float32{0, 0}
	grad := make([]float32, 2)
	opt, err := optim.NewAdam([]*optim.Group{{Params: []optim.Param{{Name: "xy", Data: xy, Grad: grad}}}},
		&optim.AdamConfig{LR: 0.5, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if err != nil {
		panic(err)
	}
	warm, _ := optim.NewLinearLR(opt, 0.1, 1, 10)
	cosine, _ := optim.NewCosineAnnealingLR(opt, 190, 0)
	sched, err := optim.NewSequentialLR(opt, []optim.Scheduler{warm, cosine}, []int{10})
	if err != nil {
		panic(err)
	}
	for step := range 200 {
		grad[0] = 2 * (xy[0] - 3)
		grad[1] = 20 * (xy[1] + 1)
		opt.Step()
		sched.Step()
		if step == 0 || step == 9 || step == 199 {
			fmt.Printf("step %3d: lr %.4f  x %.4f  y %.4f\n", step+1, sched.LastLR()[0], xy[0], xy[1])
		}
	}
	// Output:
	// step   1: lr 0.0950  x 0.0500  y -0.0500
	// step  10: lr 0.5000  x 2.3950  y -1.7224
	// step 200: lr 0.0000  x 3.0000  y -1.0000
}
