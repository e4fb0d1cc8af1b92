package main

import (
	"bufio"
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalAbortsRun runs the real command, interrupts it after its first
// repetition, and expects the aborted exit code and the promise that every
// fault was removed.
func TestSignalAbortsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := filepath.Join(t.TempDir(), "scenario")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "run", "leader-isolation", "--profile", "fast", "--reps", "50", "--cooldown", "50ms", "--no-checks")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 100)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			deadline := time.After(60 * time.Second)
			for waiting := true; waiting; {
				select {
				case line, ok := <-lines:
					if !ok {
						t.Fatalf("command ended before its first repetition: %s", stderr.String())
					}
					waiting = !strings.HasPrefix(line, "[leader-isolation 1/50]")
				case <-deadline:
					cmd.Process.Kill()
					t.Fatal("no repetition finished within 60s")
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			go func() {
				for range lines {
				}
			}()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatal("command did not stop within 60s of the signal")
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitAborted {
				t.Fatalf("exit %v, want code %d\n%s", err, exitAborted, stderr.String())
			}
			if !strings.Contains(stderr.String(), "every fault was removed") {
				t.Fatalf("stderr does not report the cleanup:\n%s", stderr.String())
			}
		})
	}
}
