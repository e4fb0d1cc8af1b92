package safety

import "errors"

// Sentinel errors of this package. Functions wrap them with %w and add the
// offending value, so test them with errors.Is.
var (
	// ErrInvalidConfig is returned by WorkloadConfig.Validate and
	// StartWorkload when a field is out of range.
	ErrInvalidConfig = errors.New("safety: invalid config")

	// ErrMissingArgument is returned by StartWorkload when the cluster or
	// the random source is nil.
	ErrMissingArgument = errors.New("safety: missing argument")
)
