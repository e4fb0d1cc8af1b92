//go:build !unix

package bench

import (
	"errors"
	"time"
)

// processCPU is not implemented where getrusage does not exist, so the
// scale measurement fails there with this error.
func processCPU() (time.Duration, error) {
	return 0, errors.New("process CPU time needs getrusage, which this platform lacks")
}
