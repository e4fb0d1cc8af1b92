// Command node runs one faultline node: a raft member with its key-value
// state machine, an operation daemon, memberlist discovery and the admin
// HTTP API, all behind the node's copy of the fault table.
//
//	node run [flags]                      start the node (the default)
//	node healthcheck [--url URL]          GET URL/healthz; exit 0 on a 200 response
//
// Every flag has an environment variable (see `node run --help`); a flag
// given on the command line wins. Exit codes: 0 after a clean shutdown on
// SIGINT or SIGTERM, 1 when the node fails, 64 for an invalid flag or
// variable.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 64
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

func run(args []string, getenv func(string) string, stderr io.Writer) int {
	command := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "healthcheck") {
		command, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stderr, "usage: node [run] [flags] | node healthcheck [--url http://127.0.0.1:8080]\n\nnode run --help lists the flags.")
		return exitOK
	}
	if command == "healthcheck" {
		return healthcheck(args, stderr)
	}

	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flagHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "node: %v\n", err)
		return exitUsage
	}
	return serve(cfg, newLogger(cfg, stderr))
}

func newLogger(cfg nodeConfig, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var handler slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(w, opts)
	}
	return slog.New(handler)
}

// serve runs the node until SIGINT or SIGTERM, or until the admin API
// fails, and then shuts it down gracefully.
func serve(cfg nodeConfig, log *slog.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	n, err := startNode(cfg, log)
	if err != nil {
		log.Error("node failed to start", "node_id", cfg.ID, "error", err)
		return exitFailure
	}
	log = n.log

	code := exitOK
	select {
	case <-ctx.Done():
		log.Info("signal received: shutting down")
	case err := <-n.serveErr:
		log.Error("node failed: shutting down", "error", err)
		code = exitFailure
	}
	stop()
	if err := n.shutdown(); err != nil {
		log.Error("shutdown finished with errors", "error", err)
		return exitFailure
	}
	log.Info("node stopped")
	return code
}

// healthcheck implements `node healthcheck`, for Docker's HEALTHCHECK in an
// image without a shell.
func healthcheck(args []string, stderr io.Writer) int {
	fs := newFlagSet("node healthcheck", stderr)
	url := fs.String("url", "http://127.0.0.1:8080", "base URL of the node's admin API; a URL ending in /healthz works too")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flagHelp) {
			return exitOK
		}
		return exitUsage
	}
	// Accept the base URL and the full /healthz URL alike.
	target := strings.TrimSuffix(strings.TrimSuffix(*url, "/"), "/healthz") + "/healthz"
	client := &http.Client{Timeout: *timeout}
	resp, err := client.Get(target)
	if err != nil {
		fmt.Fprintf(stderr, "node healthcheck: %v\n", err)
		return exitFailure
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "node healthcheck: %s returned %s\n", target, resp.Status)
		return exitFailure
	}
	return exitOK
}
