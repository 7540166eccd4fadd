package normalize

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Meta is the recipe a direction file stores beside its tensors, in the
// safetensors __metadata__ (string to string: numbers in decimal, lists as
// JSON). Every field is optional: files written by other tools may say
// nothing.
type Meta struct {
	// Kind says how the directions were made: "random" (filter-normalised
	// draws), "pca" (a training trajectory's principal components),
	// "plane" (the plane through three models) or "hessian" (the Hessian's
	// top two eigenvectors).
	Kind  string
	Model string
	// Checkpoint is the model the directions are centred on: the
	// checkpoint of random directions, the final model of a trajectory,
	// the origin A of a plane. CheckpointSHA256 is its file's hash.
	Checkpoint, CheckpointSHA256 string
	Seed                         uint64
	Norm, Ignore, Mode           string
	// SHA256 is [Hash] of the directions' values.
	SHA256 string
	// SuggestedX and SuggestedY are grid axes ("min:max:num") that cover
	// the models of a trajectory or plane with a margin.
	SuggestedX, SuggestedY string
	// Checkpoints are the models of a trajectory (in training order) or of
	// a plane (A, B, C), and Path their coordinates on the directions.
	Checkpoints []string
	Path        [][2]float64
	// The PCA's statistics, as scikit-learn names them.
	ExplainedVariance, ExplainedVarianceRatio, SingularValues []float64
	// Eigenvalues are the Hessian's eigenvalues of the directions of a
	// "hessian" file, x's first.
	Eigenvalues []float64
}

// The keys of the fields, as written since the first direction files
// ("final" and "origin" were the checkpoint of a pca and a plane file).
var metaKeys = struct {
	kind, model, checkpoint, checkpointSHA, final, finalSHA, origin, seed, norm, ignore, mode, sha,
	sugX, sugY, checkpoints, path, points, ev, evr, sv, eig string
}{"kind", "model", "checkpoint", "checkpoint_sha256", "final", "final_sha256", "origin", "seed", "norm", "ignore", "mode", "sha256",
	"suggested_x", "suggested_y", "checkpoints", "path", "points", "explained_variance", "explained_variance_ratio", "singular_values", "eigenvalues"}

// Map returns m as a direction file's metadata, leaving out empty fields.
func (m Meta) Map() map[string]string {
	k := metaKeys
	out := map[string]string{}
	put := func(key, v string) {
		if v != "" {
			out[key] = v
		}
	}
	putJSON := func(key string, v any, n int) {
		if n > 0 {
			b, _ := json.Marshal(v) // strings and floats only
			out[key] = string(b)
		}
	}
	put(k.kind, m.Kind)
	put(k.model, m.Model)
	put(k.checkpoint, m.Checkpoint)
	put(k.checkpointSHA, m.CheckpointSHA256)
	if m.Kind == "random" || m.Seed != 0 {
		put(k.seed, strconv.FormatUint(m.Seed, 10))
	}
	put(k.norm, m.Norm)
	put(k.ignore, m.Ignore)
	put(k.mode, m.Mode)
	put(k.sha, m.SHA256)
	put(k.sugX, m.SuggestedX)
	put(k.sugY, m.SuggestedY)
	putJSON(k.checkpoints, m.Checkpoints, len(m.Checkpoints))
	putJSON(k.path, m.Path, len(m.Path))
	putJSON(k.ev, m.ExplainedVariance, len(m.ExplainedVariance))
	putJSON(k.evr, m.ExplainedVarianceRatio, len(m.ExplainedVarianceRatio))
	putJSON(k.sv, m.SingularValues, len(m.SingularValues))
	putJSON(k.eig, m.Eigenvalues, len(m.Eigenvalues))
	return out
}

// ParseMeta reads a direction file's metadata; keys it does not know are
// ignored, and a value that does not parse is an error naming its key.
func ParseMeta(kv map[string]string) (Meta, error) {
	k := metaKeys
	m := Meta{
		Kind: kv[k.kind], Model: kv[k.model], Checkpoint: kv[k.checkpoint], CheckpointSHA256: kv[k.checkpointSHA],
		Norm: kv[k.norm], Ignore: kv[k.ignore], Mode: kv[k.mode], SHA256: kv[k.sha],
		SuggestedX: kv[k.sugX], SuggestedY: kv[k.sugY],
	}
	for _, alt := range []string{k.final, k.origin} {
		if m.Checkpoint == "" {
			m.Checkpoint = kv[alt]
		}
	}
	if m.CheckpointSHA256 == "" {
		m.CheckpointSHA256 = kv[k.finalSHA]
	}
	if s, ok := kv[k.seed]; ok {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return m, fmt.Errorf("normalize: direction file metadata: %s %q is not a seed", k.seed, s)
		}
		m.Seed = seed
	}
	for _, f := range []struct {
		key string
		dst any
	}{
		{k.checkpoints, &m.Checkpoints}, {k.path, &m.Path},
		{k.ev, &m.ExplainedVariance}, {k.evr, &m.ExplainedVarianceRatio}, {k.sv, &m.SingularValues},
		{k.eig, &m.Eigenvalues},
	} {
		if s, ok := kv[f.key]; ok {
			if err := json.Unmarshal([]byte(s), f.dst); err != nil {
				return m, fmt.Errorf("normalize: direction file metadata: %s: %v", f.key, err)
			}
		}
	}
	return m, nil
}
