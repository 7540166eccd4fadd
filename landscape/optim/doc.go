// Package optim implements PyTorch's classic first-order optimizers and
// learning-rate schedules on flat float32 slices, so that a training loop
// written in Go follows the same path through a loss landscape as
// torch.optim would.
//
// # Overview
//
// An [Optimizer] updates parameter [Group]s in place. Each [Param] is a
// flat []float32 (Data) with a matching gradient (Grad) of the same length;
// the caller fills Grad (a backward pass) and calls Step. The optimizers
// are [SGD] (momentum, dampening, Nesterov), [Adagrad], [RMSprop]
// (centred, momentum), [Adam] (AMSGrad), [AdamW], [NAdam] and [RAdam], each
// with the update rule and defaults of torch.optim 1.13. [Params] builds
// the parameter list from a [nets.StateDict], skipping buffers.
//
// # Exactness
//
// Step performs, element by element, the float32 operations of PyTorch's
// single-tensor (foreach=False) CPU implementation in the same order and
// with the same roundings: hyperparameter arithmetic in float64 as Python
// does it, scalars converted to float32 where ATen converts them, and a
// fused multiply-add wherever ATen's vectorised kernels use one (add with
// alpha, addcmul). With these rules the package reproduces PyTorch's
// parameters bit for bit on the fixtures in testdata (made by
// testdata/make.py); the package tests say where this is only within an
// ulp and why.
//
// Differences from torch 2.x: torch 2.0 changed NAdam's second step size
// from lr·mu_{t+1}/(1−Π·mu_t·mu_{t+1}) to lr·mu_{t+1}/(1−Π·mu_{t+1})
// (pytorch/pytorch#92699), available here as
// [NAdamConfig.FixMuProductNext]. The fixtures come from torch 1.13 only;
// later 2.x additions (decoupled_weight_decay for NAdam and RAdam, fused
// Adam kernels, foreach by default on CUDA) are not implemented, and the
// package was not checked against 2.x's single-tensor code. maximize,
// capturable, differentiable, sparse gradients and complex parameters are
// not supported.
//
// # State
//
// Optimizer state (step counts, momentum buffers, moment estimates) is
// created on the first Step, as in PyTorch, and can be read and restored
// with State and LoadState as a [nets.StateDict] whose names are
// "<param name>.<torch state key>", for example "fc.weight.exp_avg" and
// "fc.weight.step", so checkpoints can carry it.
//
// # Schedules
//
// A [Scheduler] changes the learning rates of an optimizer's groups once per
// epoch, computing them as torch.optim.lr_scheduler does (its recursive
// "chainable" form, not the closed form, so the float64 values agree):
// [NewStepLR], [NewCosineAnnealingLR], [NewLinearLR] (linear warm-up) and
// [NewSequentialLR] to run one after another.
package optim
