package grid

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrShardCount is wrapped by the error of [ShardFromEnv] when the
// environment gives a task's index but not how many tasks there are.
var ErrShardCount = errors.New("the number of shards is not known")

// ShardFromEnv returns the shard that a task of a job array computes,
// from its scheduler's environment (getenv is os.Getenv, or a map's
// lookup in tests):
//
//   - a Slurm job array task: SLURM_ARRAY_TASK_ID counted from
//     SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT tasks (or MAX−MIN+1);
//   - a Kubernetes Indexed Job pod: JOB_COMPLETION_INDEX, of count
//     shards (the job's completions, which its pods are not told).
//
// count, if positive, overrides the number of tasks. inArray is false
// outside a job array.
func ShardFromEnv(getenv func(string) string, count int) (s Shard, inArray bool, err error) {
	atoi := func(name string) (int, bool, error) {
		v := getenv(name)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, false, fmt.Errorf("grid: environment variable %s=%q is not a number", name, v)
		}
		return n, true, nil
	}
	id, inSlurm, err := atoi("SLURM_ARRAY_TASK_ID")
	switch {
	case err != nil:
		return s, false, err
	case inSlurm:
		lo, _, err1 := atoi("SLURM_ARRAY_TASK_MIN")
		hi, hasMax, err2 := atoi("SLURM_ARRAY_TASK_MAX")
		n, hasCount, err3 := atoi("SLURM_ARRAY_TASK_COUNT")
		if err := errors.Join(err1, err2, err3); err != nil {
			return s, false, err
		}
		switch {
		case count > 0:
			n = count
		case !hasCount && hasMax:
			n = hi - lo + 1
		case !hasCount:
			return s, false, fmt.Errorf("grid: SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX: %w", ErrShardCount)
		}
		s = Shard{Index: id - lo, Count: n}
		if err := s.Validate(); err != nil {
			return s, false, fmt.Errorf("grid: Slurm array task %d (min %d) of %d tasks: %w; use a contiguous --array=0-%d", id, lo, n, err, n-1)
		}
		return s, true, nil
	}
	idx, inK8s, err := atoi("JOB_COMPLETION_INDEX")
	switch {
	case err != nil:
		return s, false, err
	case inK8s && count == 0:
		return s, false, fmt.Errorf("grid: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): %w", ErrShardCount)
	case inK8s:
		s = Shard{Index: idx, Count: count}
		if err := s.Validate(); err != nil {
			return s, false, fmt.Errorf("grid: JOB_COMPLETION_INDEX=%d with %d shards: %w; the shard count must be the job's completions", idx, count, err)
		}
		return s, true, nil
	}
	return Whole(), false, nil
}
