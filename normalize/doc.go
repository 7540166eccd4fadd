// Package normalize makes the directions u and v of a loss surface.
//
// # Overview
//
// [Random] draws i.i.d. N(0,1) values per tensor from a seeded PCG and
// rescales them with [Normalize] exactly as the reference code does:
// [Filter] normalisation gives each output channel (dim-0 slice) of the
// direction the norm of the same channel of the weights, so that moving
// by α = 1 perturbs every filter by 100% of its size and networks of
// different scale can be compared. Biases and batch-norm tensors (rank ≤ 1)
// get zero directions under [BiasBN]; [CopyWeights] reproduces the
// reference's behaviour without --xignore, where they equal the weights.
//
// [Target] makes the interpolation direction B − A between two checkpoints,
// unnormalised. [NewPlane] makes an orthonormal basis (Gram–Schmidt) of the
// plane through three checkpoints and places them in it. [PCA] finds the two
// principal directions of a training trajectory as the reference does with
// scikit-learn, from the n×n Gram matrix of the checkpoints rather than a
// dense covariance, and projects every checkpoint on them. [WriteFile] and [ReadFile] store final directions as
// safetensors (x.<key>, y.<key>) so every shard of a cluster job uses the
// same ones; [Hash] fingerprints them for the output's provenance.
package normalize
