package raftint

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// recordingHandler keeps every record it handles, with attributes flattened
// to strings.
type recordingHandler struct {
	level slog.Level

	mu      sync.Mutex
	records []loggedRecord
}

type loggedRecord struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

func (h *recordingHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level
}

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	rec := loggedRecord{level: r.Level, msg: r.Message, attrs: map[string]any{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Any()
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) last(t *testing.T) loggedRecord {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.records) == 0 {
		t.Fatal("nothing was logged")
	}
	return h.records[len(h.records)-1]
}

func (h *recordingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.records)
}

func TestHCLoggerLevels(t *testing.T) {
	tests := []struct {
		name  string
		log   func(hclog.Logger)
		level slog.Level
	}{
		{"trace", func(l hclog.Logger) { l.Trace("m") }, slog.LevelDebug - 4},
		{"debug", func(l hclog.Logger) { l.Debug("m") }, slog.LevelDebug},
		{"info", func(l hclog.Logger) { l.Info("m") }, slog.LevelInfo},
		{"warn", func(l hclog.Logger) { l.Warn("m") }, slog.LevelWarn},
		{"error", func(l hclog.Logger) { l.Error("m") }, slog.LevelError},
		{"no level", func(l hclog.Logger) { l.Log(hclog.NoLevel, "m") }, slog.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler := &recordingHandler{level: slog.LevelDebug - 4}
			tt.log(NewHCLogger(slog.New(handler), "raft"))

			got := handler.last(t)
			if got.level != tt.level {
				t.Errorf("level = %v, want %v", got.level, tt.level)
			}
			if got.attrs["logger"] != "raft" {
				t.Errorf("logger attribute = %v, want raft", got.attrs["logger"])
			}
		})
	}
}

func TestHCLoggerFiltering(t *testing.T) {
	handler := &recordingHandler{level: slog.LevelInfo}
	logger := NewHCLogger(slog.New(handler), "raft")

	if logger.IsDebug() || logger.IsTrace() {
		t.Error("IsDebug or IsTrace true although the handler accepts Info and above")
	}
	if !logger.IsInfo() || !logger.IsWarn() || !logger.IsError() {
		t.Error("IsInfo, IsWarn or IsError false although the handler accepts them")
	}
	if logger.GetLevel() != hclog.Info {
		t.Errorf("GetLevel = %v, want info", logger.GetLevel())
	}

	logger.Debug("dropped")
	logger.Log(hclog.Off, "dropped")
	if handler.count() != 0 {
		t.Errorf("%d records logged below the handler level", handler.count())
	}

	derived := logger.Named("child")
	logger.SetLevel(hclog.Error)
	derived.Warn("dropped by SetLevel on the parent")
	if handler.count() != 0 {
		t.Error("SetLevel on the parent did not apply to a derived logger")
	}
	if derived.GetLevel() != hclog.Error {
		t.Errorf("derived GetLevel = %v, want error", derived.GetLevel())
	}
	derived.Error("kept")
	if handler.count() != 1 {
		t.Errorf("%d records after an Error, want 1", handler.count())
	}
}

func TestHCLoggerArgs(t *testing.T) {
	handler := &recordingHandler{level: slog.LevelInfo}
	logger := NewHCLogger(slog.New(handler), "raft").With("local-address", "127.0.0.1:1")

	errTest := errors.New("boom")
	logger.Info("msg", "backoff time", "5ms", "error", errTest, "fmt", hclog.Fmt("%d-%s", 7, "x"), "hex", hclog.Hex(255), "dangling")

	got := handler.last(t)
	want := map[string]any{
		"logger":        "raft",
		"local_address": "127.0.0.1:1",
		"backoff_time":  "5ms",
		"error":         errTest,
		"fmt":           "7-x",
		"hex":           "0xff",
		"extra_value":   "dangling",
	}
	for key, value := range want {
		if got.attrs[key] != value {
			t.Errorf("attribute %s = %#v, want %#v", key, got.attrs[key], value)
		}
	}
	if len(got.attrs) != len(want) {
		t.Errorf("attributes = %v, want exactly %v", got.attrs, want)
	}

	implied := logger.ImpliedArgs()
	if len(implied) != 2 || implied[0] != "local-address" {
		t.Errorf("ImpliedArgs = %v, want [local-address 127.0.0.1:1]", implied)
	}
}

func TestHCLoggerNames(t *testing.T) {
	tests := []struct {
		name   string
		logger func(hclog.Logger) hclog.Logger
		want   string
	}{
		{"base", func(l hclog.Logger) hclog.Logger { return l }, "raft"},
		{"named", func(l hclog.Logger) hclog.Logger { return l.Named("snapshot") }, "raft.snapshot"},
		{"named twice", func(l hclog.Logger) hclog.Logger { return l.Named("a").Named("b") }, "raft.a.b"},
		{"reset named", func(l hclog.Logger) hclog.Logger { return l.Named("a").ResetNamed("b") }, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler := &recordingHandler{level: slog.LevelInfo}
			logger := tt.logger(NewHCLogger(slog.New(handler), "raft"))

			if logger.Name() != tt.want {
				t.Errorf("Name() = %q, want %q", logger.Name(), tt.want)
			}
			logger.Info("m")
			if got := handler.last(t).attrs["logger"]; got != tt.want {
				t.Errorf("logger attribute = %v, want %q", got, tt.want)
			}
		})
	}
}

func TestHCLoggerStandardLogger(t *testing.T) {
	tests := []struct {
		name      string
		opts      *hclog.StandardLoggerOptions
		line      string
		wantLevel slog.Level
		wantMsg   string
	}{
		{"no inference", nil, "[DEBUG] memberlist: hello", slog.LevelInfo, "[DEBUG] memberlist: hello"},
		{"infer debug", &hclog.StandardLoggerOptions{InferLevels: true}, "[DEBUG] memberlist: hello", slog.LevelDebug, "memberlist: hello"},
		{"infer err", &hclog.StandardLoggerOptions{InferLevels: true}, "[ERR] memberlist: failed", slog.LevelError, "memberlist: failed"},
		{"infer warn", &hclog.StandardLoggerOptions{InferLevels: true}, "[WARN] x", slog.LevelWarn, "x"},
		{"infer without prefix", &hclog.StandardLoggerOptions{InferLevels: true}, "plain", slog.LevelInfo, "plain"},
		{"infer with timestamp", &hclog.StandardLoggerOptions{InferLevelsWithTimestamp: true}, "2024/01/02 15:04:05.123456 [WARN] late", slog.LevelWarn, "late"},
		{"timestamp not stripped without option", &hclog.StandardLoggerOptions{InferLevels: true}, "2024/01/02 15:04:05 [WARN] late", slog.LevelInfo, "2024/01/02 15:04:05 [WARN] late"},
		{"force level", &hclog.StandardLoggerOptions{InferLevels: true, ForceLevel: hclog.Error}, "[DEBUG] x", slog.LevelError, "[DEBUG] x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler := &recordingHandler{level: slog.LevelDebug}
			std := NewHCLogger(slog.New(handler), "memberlist").StandardLogger(tt.opts)

			std.Print(tt.line)
			got := handler.last(t)
			if got.level != tt.wantLevel {
				t.Errorf("level = %v, want %v", got.level, tt.wantLevel)
			}
			if got.msg != tt.wantMsg {
				t.Errorf("message = %q, want %q", got.msg, tt.wantMsg)
			}
		})
	}
}

func TestHCLoggerStandardWriterLines(t *testing.T) {
	handler := &recordingHandler{level: slog.LevelInfo}
	w := NewHCLogger(slog.New(handler), "x").StandardWriter(nil)

	if _, err := w.Write([]byte("one\n\ntwo\n")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if handler.count() != 2 {
		t.Errorf("%d records for two lines, want 2", handler.count())
	}
}

func TestHCLoggerNilLogger(t *testing.T) {
	logger := NewHCLogger(nil, "raft")
	logger.Error("discarded")
	if logger.IsError() {
		t.Error("IsError true for a logger that discards everything")
	}
}
