package cluster

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill a node process when the harness
// process dies, even by SIGKILL, so no node outlives the run that started
// it.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
