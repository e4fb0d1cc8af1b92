package netchaos

import (
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"
)

// TableConfig configures a Table.
type TableConfig struct {
	// Seed feeds every random decision of the table.
	Seed int64
	// DefaultTTL applies to rules that set no TTL.
	DefaultTTL time.Duration
	// Logger receives one line per change of the rule set.
	Logger *slog.Logger
}

// MaxVersion bounds the versions Install accepts, far below the largest
// uint64, so that the increments of later changes never wrap around.
const MaxVersion = 1 << 62

// DefaultTableConfig returns a config with seed 1 and a 5-minute TTL.
func DefaultTableConfig() TableConfig {
	return TableConfig{Seed: 1, DefaultTTL: DefaultTTL, Logger: slog.New(slog.DiscardHandler)}
}

// Validate checks the config.
func (c TableConfig) Validate() error {
	if c.DefaultTTL <= 0 {
		return fmt.Errorf("netchaos: default ttl %v must be above zero: rules are never infinite", c.DefaultTTL)
	}
	return nil
}

// Action is the fate of one message.
type Action int

// Actions, in the order in which they win when several rules match: a
// partition beats a reject, which beats a drop, which beats a delay.
const (
	ActionPass Action = iota
	ActionDelay
	ActionDrop
	ActionReject
	ActionHold
)

var actionNames = [...]string{"pass", "delay", "drop", "reject", "hold"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Decision is the table's verdict on one message.
type Decision struct {
	Action Action
	// RuleID names the rule that decided; empty for a pass.
	RuleID string
	// Release is when a delayed message may go on.
	Release time.Time
	// changed is closed at the next change of the rule set. A held message
	// waits on it and on wake, the earliest expiry of a holding rule.
	changed <-chan struct{}
	wake    time.Time
}

type linkKey struct{ from, to string }

type streamKey struct {
	rule     string
	from, to string
}

// Table holds the active rules. It is safe for concurrent use.
type Table struct {
	cfg     TableConfig
	log     *slog.Logger
	mu      sync.Mutex
	rules   []Rule
	version uint64
	nextID  uint64
	changed chan struct{}
	streams map[streamKey]*rand.Rand
	release map[linkKey]time.Time
	links   map[linkKey]*LinkCounters
	hits    map[string]uint64
}

// NewTable returns an empty table.
func NewTable(cfg TableConfig) (*Table, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Table{
		cfg:     cfg,
		log:     log,
		changed: make(chan struct{}),
		streams: make(map[streamKey]*rand.Rand),
		release: make(map[linkKey]time.Time),
		links:   make(map[linkKey]*LinkCounters),
		hits:    make(map[string]uint64),
	}, nil
}

// Seed returns the seed of the table's random decisions.
func (t *Table) Seed() int64 { return t.cfg.Seed }

// Version returns the current version; it increases on every change,
// expiries included.
func (t *Table) Version() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked(time.Now())
	return t.version
}

// Rules returns a copy of the active rules.
func (t *Table) Rules() []Rule {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked(time.Now())
	out := make([]Rule, len(t.rules))
	for i, r := range t.rules {
		out[i] = r
		out[i].Messages = slices.Clone(r.Messages)
	}
	return out
}

// Add validates and adds rules, all or none, and returns them with their IDs
// and expiry times.
func (t *Table) Add(rules ...Rule) ([]Rule, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	t.expireLocked(now)
	added, err := t.prepareLocked(now, rules)
	if err != nil {
		return nil, err
	}
	t.rules = append(t.rules, added...)
	t.changeLocked("rules added", added)
	return slices.Clone(added), nil
}

// Replace swaps the whole rule set for rules, all or none. When expect is not
// zero, the swap happens only if the table is still at that version.
func (t *Table) Replace(expect uint64, rules []Rule) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	t.expireLocked(now)
	if expect != 0 && expect != t.version {
		return t.version, fmt.Errorf("%w: expected version %d, table is at %d: read the table again",
			ErrVersionMismatch, expect, t.version)
	}
	prepared, err := t.prepareLocked(now, rules)
	if err != nil {
		return t.version, err
	}
	t.rules = prepared
	t.changeLocked("rules replaced", prepared)
	return t.version, nil
}

// Install replaces the whole rule set and sets the table to version, all or
// none. It is how one fault table is copied to every node: the caller picks
// a version above every node's current one, so every node ends at the same
// version. A version that is not above the current one is rejected.
func (t *Table) Install(version uint64, rules []Rule) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	t.expireLocked(now)
	if version <= t.version {
		return fmt.Errorf("%w: version %d is not above the current version %d: read the table again",
			ErrVersionMismatch, version, t.version)
	}
	if version > MaxVersion {
		return fmt.Errorf("%w: version %d is above the maximum %d", ErrInvalidRule, version, uint64(MaxVersion))
	}
	prepared, err := t.prepareLocked(now, rules)
	if err != nil {
		return err
	}
	t.rules = prepared
	t.version = version - 1
	t.changeLocked("rules installed", prepared)
	return nil
}

// Remove deletes the rules with the given IDs and returns how many it found.
func (t *Table) Remove(ids ...string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	before := len(t.rules)
	t.rules = slices.DeleteFunc(t.rules, func(r Rule) bool { return slices.Contains(ids, r.ID) })
	removed := before - len(t.rules)
	if removed > 0 {
		t.changeLocked("rules removed", nil)
	}
	return removed
}

// Clear removes every rule, which heals every fault.
func (t *Table) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.rules) == 0 {
		return
	}
	t.rules = nil
	t.changeLocked("rules cleared", nil)
}

// prepareLocked validates rules and fills IDs and expiry times.
func (t *Table) prepareLocked(now time.Time, rules []Rule) ([]Rule, error) {
	out := make([]Rule, 0, len(rules))
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("rule %d (%s → %s): %w", i, r.From, r.To, err)
		}
		if r.TTL == 0 {
			r.TTL = t.cfg.DefaultTTL
		}
		r.ExpiresAt = now.Add(r.TTL)
		r.Messages = slices.Clone(r.Messages)
		out = append(out, r)
	}
	for i := range out {
		if out[i].ID == "" {
			t.nextID++
			out[i].ID = "r" + strconv.FormatUint(t.nextID, 10)
		}
	}
	return out, nil
}

// changeLocked bumps the version and wakes every held message.
func (t *Table) changeLocked(what string, rules []Rule) {
	t.version++
	close(t.changed)
	t.changed = make(chan struct{})
	t.log.Info("netchaos "+what, "version", t.version, "active", len(t.rules), "rules", describe(rules))
}

func (t *Table) expireLocked(now time.Time) {
	before := len(t.rules)
	t.rules = slices.DeleteFunc(t.rules, func(r Rule) bool { return !now.Before(r.ExpiresAt) })
	if len(t.rules) != before {
		t.changeLocked("rules expired", nil)
	}
}

func describe(rules []Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = fmt.Sprintf("%s:%s→%s:%s", r.ID, r.From, r.To, r.Kind)
	}
	return out
}

// Decide returns what happens to one message of kind on from → to, and
// counts it.
func (t *Table) Decide(from, to string, kind MessageKind) Decision {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	t.expireLocked(now)
	d := t.decideLocked(now, from, to, kind)
	t.countLocked(from, to, d)
	return d
}

// stillHeld reports whether a held message on from → to is still held, and
// what to wait on next.
func (t *Table) stillHeld(from, to string, kind MessageKind) (Decision, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	t.expireLocked(now)
	d := t.holdLocked(from, to, kind)
	return d, d.Action == ActionHold
}

func (t *Table) decideLocked(now time.Time, from, to string, kind MessageKind) Decision {
	if d := t.holdLocked(from, to, kind); d.Action == ActionHold {
		return d
	}
	for _, r := range t.rules {
		if r.Kind == KindReject && r.matches(from, to, kind) {
			return Decision{Action: ActionReject, RuleID: r.ID}
		}
	}
	for _, r := range t.rules {
		if r.Kind == KindDrop && r.matches(from, to, kind) && t.streamLocked(r.ID, from, to).Float64() < r.Probability {
			return Decision{Action: ActionDrop, RuleID: r.ID}
		}
	}
	return t.delayLocked(now, from, to, kind)
}

func (t *Table) holdLocked(from, to string, kind MessageKind) Decision {
	d := Decision{Action: ActionPass}
	for _, r := range t.rules {
		if r.Kind != KindPartition || !r.matches(from, to, kind) {
			continue
		}
		if d.Action != ActionHold || r.ExpiresAt.Before(d.wake) {
			d = Decision{Action: ActionHold, RuleID: r.ID, changed: t.changed, wake: r.ExpiresAt}
		}
	}
	return d
}

// delayLocked sums the matching delay rules. A message is never released
// before the previous message on the same link, so delay keeps order.
func (t *Table) delayLocked(now time.Time, from, to string, kind MessageKind) Decision {
	var total time.Duration
	var ruleID string
	for _, r := range t.rules {
		if r.Kind != KindDelay || !r.matches(from, to, kind) {
			continue
		}
		total += r.Delay
		if r.Jitter > 0 {
			total += time.Duration(t.streamLocked(r.ID, from, to).Int64N(int64(r.Jitter)))
		}
		ruleID = r.ID
	}
	if ruleID == "" {
		return Decision{Action: ActionPass}
	}
	link := linkKey{from, to}
	release := now.Add(total)
	if last := t.release[link]; release.Before(last) {
		release = last
	}
	t.release[link] = release
	return Decision{Action: ActionDelay, RuleID: ruleID, Release: release}
}

// streamLocked returns the generator of one rule on one link. Its seed
// mixes the table seed with the rule ID and link, so decisions on a link do
// not depend on traffic elsewhere.
func (t *Table) streamLocked(rule, from, to string) *rand.Rand {
	key := streamKey{rule, from, to}
	if g, ok := t.streams[key]; ok {
		return g
	}
	h := fnv.New64a()
	h.Write([]byte(rule + "\x00" + from + "\x00" + to))
	g := rand.New(rand.NewPCG(uint64(t.cfg.Seed), h.Sum64()))
	t.streams[key] = g
	return g
}
