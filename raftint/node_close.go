package raftint

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Shutdown stops the node: raft stops and closes the transport, the
// observer records what raft queued and stops, and the bolt file is closed.
// It does not transfer leadership, so a leader's followers elect a new one
// after their heartbeat timeout. Shutdown is idempotent, waits for every
// goroutine the node started, and returns the first call's error on every
// call, including calls after Crash.
func (n *Node) Shutdown() error {
	return n.close(false)
}

// Crash stops the node as abruptly as one process allows. It closes the
// transport and its pooled connections first so RPCs in flight fail and
// peers see the node vanish, then stops raft without leadership transfer
// and closes the bolt file without writing to it. bbolt commits each
// transaction durably, so the data directory is left as a killed process
// would leave it, and Open on the same directory recovers from it.
//
// NOTE: raft.Shutdown waits for raft's goroutines, so a snapshot or log
// write already in progress completes, which a killed process would not
// guarantee.
//
// Crash is idempotent. After Shutdown it only returns Shutdown's result.
func (n *Node) Crash() error {
	return n.close(true)
}

func (n *Node) close(crash bool) error {
	n.closeMu.Lock()
	defer n.closeMu.Unlock()
	if n.closed {
		return n.closeErr
	}
	n.closed = true

	start := time.Now()
	var errs []error
	if crash {
		if err := n.closeTransport(); err != nil {
			errs = append(errs, err)
		}
	}

	// The shutdown future waits for raft's goroutines and then closes the
	// transport if it implements raft.WithClose.
	if err := n.raft.Shutdown().Error(); err != nil {
		errs = append(errs, fmt.Errorf("shut down raft: %w", err))
	}

	// raft may have opened pooled connections after a crash closed the
	// first ones, and a graceful shutdown has not closed any yet.
	n.closeStreams()
	n.observer.stop()

	if err := n.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close %s: %w", boltFileName, err))
	}

	n.closeErr = errors.Join(errs...)
	kind := "shutdown"
	if crash {
		kind = "crash"
	}
	if n.closeErr != nil {
		n.logger.Error("node stopped with errors", "kind", kind, "error", n.closeErr, "duration", time.Since(start))
	} else {
		n.logger.Info("node stopped", "kind", kind, "duration", time.Since(start))
	}
	return n.closeErr
}

func (n *Node) closeTransport() error {
	var err error
	if closer, ok := n.transport.(raft.WithClose); ok {
		if err = closer.Close(); err != nil {
			err = fmt.Errorf("close transport %s: %w", n.transport.LocalAddr(), err)
		}
	}
	n.closeStreams()
	return err
}

func (n *Node) closeStreams() {
	if closer, ok := n.transport.(StreamCloser); ok {
		closer.CloseStreams()
	}
}
