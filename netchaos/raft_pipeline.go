package netchaos

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// pipelineDepth bounds the appends in flight in a wrapped pipeline; a full
// pipeline blocks the sender, as a full TCP buffer does.
const pipelineDepth = 128

// appendFuture implements raft.AppendFuture for a wrapped pipeline.
type appendFuture struct {
	start    time.Time
	args     *raft.AppendEntriesRequest
	resp     *raft.AppendEntriesResponse
	decision Decision // request direction, decided when raft sent it
	inner    raft.AppendFuture
	err      error
	done     chan struct{}
}

func (f *appendFuture) Error() error {
	<-f.done
	return f.err
}
func (f *appendFuture) Start() time.Time                      { return f.start }
func (f *appendFuture) Request() *raft.AppendEntriesRequest   { return f.args }
func (f *appendFuture) Response() *raft.AppendEntriesResponse { return f.resp }

// respond completes the future. A failed append gets a zero response,
// because raft's pipeline decoder reads the response and not Error(): a zero
// response makes it leave pipeline mode, as it does when a real connection
// fails.
func (f *appendFuture) respond(err error) {
	if err != nil {
		*f.resp = raft.AppendEntriesResponse{}
	}
	f.err = err
	close(f.done)
}

type delivery struct {
	future   *appendFuture
	decision Decision // response direction
}

// pipeline wraps a raft.AppendPipeline. Three goroutines keep the order of
// appends: the sender carries out request faults and forwards to the inner
// pipeline, the receiver matches inner results to futures and decides the
// response fault, and the deliverer carries it out and hands the future to
// raft. A message that passes skips the sender and the deliverer when they
// hold nothing. Decisions are taken when a message enters a stage, so delays
// on a busy link do not add up.
type pipeline struct {
	t        *RaftTransport
	peer     string
	inner    raft.AppendPipeline
	sendq    chan *appendFuture
	sent     chan *appendFuture
	deliverq chan delivery
	consumer chan raft.AppendFuture
	closed   chan struct{}
	once     sync.Once
	wg       sync.WaitGroup

	mu     sync.Mutex
	broken error

	// sendPending counts futures in sendq or in the sender's hands, and
	// deliverPending those in deliverq or in the deliverer's hands. While a
	// stage holds nothing, a message that passes skips its goroutine, which
	// keeps the order and saves two hand-offs per append.
	sendMu         sync.Mutex
	sendPending    int
	deliverMu      sync.Mutex
	deliverPending int
}

func newPipeline(t *RaftTransport, peer string, inner raft.AppendPipeline) *pipeline {
	p := &pipeline{
		t:        t,
		peer:     peer,
		inner:    inner,
		sendq:    make(chan *appendFuture, pipelineDepth),
		sent:     make(chan *appendFuture, pipelineDepth),
		deliverq: make(chan delivery, pipelineDepth),
		consumer: make(chan raft.AppendFuture, pipelineDepth),
		closed:   make(chan struct{}),
	}
	p.wg.Add(3)
	t.wg.Add(1)
	go func() { defer p.wg.Done(); p.send() }()
	go func() { defer p.wg.Done(); p.receive() }()
	go func() { defer p.wg.Done(); p.deliver() }()
	go func() { defer t.wg.Done(); p.closeOnShutdown() }()
	return p
}

// AppendEntries implements raft.AppendPipeline.
func (p *pipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	if err := p.brokenErr(); err != nil {
		return nil, err
	}
	kind := appendKind(args)
	f := &appendFuture{
		start:    time.Now(),
		args:     args,
		resp:     resp,
		decision: p.t.table.Decide(p.t.local, p.peer, kind),
		done:     make(chan struct{}),
	}
	p.sendMu.Lock()
	if p.sendPending == 0 && f.decision.Action == ActionPass {
		defer p.sendMu.Unlock()
		return p.forward(f)
	}
	p.sendPending++
	p.sendMu.Unlock()
	select {
	case p.sendq <- f:
		return f, nil
	case <-p.closed:
		return nil, fmt.Errorf("%w: pipeline to %s is closed", ErrClosed, p.peer)
	}
}

// forward hands f to the inner pipeline from the caller's goroutine. The
// caller holds sendMu with nothing pending, so f keeps its place in order.
func (p *pipeline) forward(f *appendFuture) (raft.AppendFuture, error) {
	inner, err := p.inner.AppendEntries(f.args, f.resp)
	if err != nil {
		p.breakWith(err)
		return nil, err
	}
	f.inner = inner
	select {
	case p.sent <- f:
		return f, nil
	case <-p.closed:
		return nil, fmt.Errorf("%w: pipeline to %s is closed", ErrClosed, p.peer)
	}
}

// Consumer implements raft.AppendPipeline.
func (p *pipeline) Consumer() <-chan raft.AppendFuture { return p.consumer }

// Close implements raft.AppendPipeline. It is idempotent.
func (p *pipeline) Close() error {
	var err error
	p.once.Do(func() {
		close(p.closed)
		err = p.inner.Close()
		p.wg.Wait()
	})
	return err
}

func (p *pipeline) closeOnShutdown() {
	select {
	case <-p.t.shutdown:
		p.Close()
	case <-p.closed:
	}
}

func (p *pipeline) brokenErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.broken
}

// breakWith records the first fault; later appends fail at once so that
// raft falls back to single AppendEntries calls.
func (p *pipeline) breakWith(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken == nil {
		p.broken = fmt.Errorf("%w: %w", ErrPipelineBroken, err)
	}
}

func (p *pipeline) send() {
	for {
		var f *appendFuture
		select {
		case f = <-p.sendq:
		case <-p.closed:
			return
		}
		deadline := f.start.Add(p.t.timeout)
		err := p.brokenErr()
		if err == nil {
			err = p.t.cross(f.decision, p.t.local, p.peer, appendKind(f.args), deadline, p.closed)
		}
		if err == nil {
			f.inner, err = p.inner.AppendEntries(f.args, f.resp)
		}
		if err != nil {
			p.breakWith(err)
			f.err = err
		}
		select {
		case p.sent <- f:
		case <-p.closed:
			return
		}
		p.sendMu.Lock()
		p.sendPending--
		p.sendMu.Unlock()
	}
}

func (p *pipeline) receive() {
	for {
		var f *appendFuture
		select {
		case f = <-p.sent:
		case <-p.closed:
			return
		}
		d := Decision{Action: ActionPass}
		if f.err == nil {
			d = p.awaitInner(f)
		}
		if !p.handOn(f, d) {
			return
		}
	}
}

// handOn delivers f at once when its response passes and the deliverer
// holds nothing, and queues it for the deliverer otherwise. It reports
// false once the pipeline is closed.
func (p *pipeline) handOn(f *appendFuture, d Decision) bool {
	p.deliverMu.Lock()
	if p.deliverPending == 0 && f.err == nil && d.Action == ActionPass {
		defer p.deliverMu.Unlock()
		f.respond(nil)
		select {
		case p.consumer <- f:
			return true
		case <-p.closed:
			return false
		}
	}
	p.deliverPending++
	p.deliverMu.Unlock()
	select {
	case p.deliverq <- delivery{future: f, decision: d}:
		return true
	case <-p.closed:
		return false
	}
}

// awaitInner waits for the inner pipeline's result for f, which comes in
// order, and decides the response's fate.
func (p *pipeline) awaitInner(f *appendFuture) Decision {
	select {
	case innerF := <-p.inner.Consumer():
		if err := innerF.Error(); err != nil {
			p.breakWith(err)
			f.err = err
			return Decision{Action: ActionPass}
		}
		return p.t.table.Decide(p.peer, p.t.local, appendKind(f.args))
	case <-p.closed:
		f.err = ErrClosed
		return Decision{Action: ActionPass}
	}
}

func (p *pipeline) deliver() {
	for {
		var dl delivery
		select {
		case dl = <-p.deliverq:
		case <-p.closed:
			return
		}
		f := dl.future
		err := f.err
		if err == nil {
			err = p.t.cross(dl.decision, p.peer, p.t.local, appendKind(f.args), f.start.Add(p.t.timeout), p.closed)
			if err != nil {
				p.breakWith(err)
			}
		}
		f.respond(err)
		select {
		case p.consumer <- f:
		case <-p.closed:
			return
		}
		p.deliverMu.Lock()
		p.deliverPending--
		p.deliverMu.Unlock()
	}
}
