package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/partition"
)

// Timeouts of compose commands whose caller gives no context.
const (
	composeCommandTimeout = time.Minute
	// composeDownTimeout leaves room for every container's 30 s stop grace
	// period, which down waits out in parallel.
	composeDownTimeout = 2 * time.Minute
	// composeLogsTimeout bounds the log read that an error quotes.
	composeLogsTimeout = 10 * time.Second
)

// ErrNoCompose reports that neither `docker compose` nor `docker-compose`
// runs on this machine.
var ErrNoCompose = errors.New("cluster: no docker compose command")

// DetectCompose returns the compose command of this machine:
// ["docker", "compose"] when the Docker CLI has the compose plugin, else
// ["docker-compose"] when that program runs.
func DetectCompose(ctx context.Context) ([]string, error) {
	candidates := [][]string{{"docker", "compose"}, {"docker-compose"}}
	var errs []error
	for _, cmd := range candidates {
		args := append(cmd[1:len(cmd):len(cmd)], "version")
		out, err := exec.CommandContext(ctx, cmd[0], args...).CombinedOutput()
		if err == nil {
			return cmd, nil
		}
		errs = append(errs, fmt.Errorf("%s version: %w: %s", strings.Join(cmd, " "), err, firstLine(out)))
	}
	return nil, fmt.Errorf("%w: install the compose plugin or docker-compose: %w", ErrNoCompose, errors.Join(errs...))
}

func firstLine(out []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// composeCommand runs compose commands on one project and file.
type composeCommand struct {
	command []string
	file    string
	project string
	// env is added to this process's environment for every command.
	env []string
	log *slog.Logger
}

// run runs one compose command and returns its standard output. Its error
// quotes the standard error.
func (c composeCommand) run(ctx context.Context, args ...string) (string, error) {
	full := append([]string{}, c.command[1:]...)
	full = append(full, "--file", c.file, "--project-name", c.project)
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, c.command[0], full...)
	cmd.Env = append(os.Environ(), c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	c.log.Debug("compose command ran", "project", c.project, "args", args, "duration", time.Since(start), "error", err)
	if err != nil {
		return stdout.String(), fmt.Errorf("cluster: %s %s: %w: %s",
			strings.Join(c.command, " "), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// adminURL returns the URL on 127.0.0.1 where the project publishes the
// admin port of service id.
func (c composeCommand) adminURL(ctx context.Context, id string) (string, error) {
	out, err := c.run(ctx, "port", id, composeAdminPort)
	if err != nil {
		return "", err
	}
	addr := strings.TrimSpace(out)
	if addr == "" || strings.HasSuffix(addr, ":0") {
		return "", fmt.Errorf("cluster: %s publishes no admin port %s: is it running?", id, composeAdminPort)
	}
	url, err := partition.NormalizeURL(addr)
	if err != nil {
		return "", fmt.Errorf("cluster: admin port of %s: %w", id, err)
	}
	return url, nil
}

// running returns the IDs of the project's containers.
func (c composeCommand) running(ctx context.Context) ([]string, error) {
	out, err := c.run(ctx, "--profile", "five", "ps", "--quiet")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// logs returns the last lines of service id's logs, for error messages.
func (c composeCommand) logs(id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), composeLogsTimeout)
	defer cancel()
	out, err := c.run(ctx, "logs", "--no-color", "--tail", "40", id)
	if err != nil {
		return err.Error()
	}
	return out
}
