//go:build !linux

package cluster

import "os/exec"

// dieWithParent does nothing where the kernel offers no parent-death
// signal; Close still stops every node it started.
func dieWithParent(*exec.Cmd) {}
