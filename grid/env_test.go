package grid

import (
	"errors"
	"strings"
	"testing"
)

// TestShardFromEnvReadsSlurmAndKubernetes: a Slurm array task's shard is
// its index from the array's first, of the array's size; a Kubernetes
// Indexed Job pod's is its completion index of the count given; outside a
// job array the shard is the whole grid.
func TestShardFromEnvReadsSlurmAndKubernetes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env     map[string]string
		count   int
		want    Shard
		inArray bool
		err     string
	}{
		{nil, 0, Whole(), false, ""},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"}, 0, Shard{3, 4}, true, ""},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "8"}, 0, Shard{4, 8}, true, ""},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "8"}, 16, Shard{4, 16}, true, ""},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "4"}, 0, Shard{}, false, "contiguous"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "2"}, 0, Shard{}, false, ErrShardCount.Error()},
		{map[string]string{"JOB_COMPLETION_INDEX": "5"}, 6, Shard{5, 6}, true, ""},
		{map[string]string{"JOB_COMPLETION_INDEX": "5"}, 0, Shard{}, false, ErrShardCount.Error()},
		{map[string]string{"JOB_COMPLETION_INDEX": "x"}, 3, Shard{}, false, "not a number"},
	} {
		got, inArray, err := ShardFromEnv(func(k string) string { return tc.env[k] }, tc.count)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v, count %d: error %v, want one saying %q", tc.env, tc.count, err, tc.err)
			}
			if tc.err == ErrShardCount.Error() && !errors.Is(err, ErrShardCount) {
				t.Errorf("%v: %v does not wrap ErrShardCount", tc.env, err)
			}
			continue
		}
		if err != nil || got != tc.want || inArray != tc.inArray {
			t.Errorf("%v, count %d = %v, %v, %v; want %v, %v", tc.env, tc.count, got, inArray, err, tc.want, tc.inArray)
		}
	}
}
