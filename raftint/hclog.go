package raftint

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// NewHCLogger returns an hclog.Logger that writes to l, for the hashicorp
// libraries that log through hclog: raft.Config.Logger,
// raft.NetworkTransportConfig.Logger and the file snapshot store. name is
// logged under the "logger" key; Named appends to it with a dot, as hclog
// does. Keys are rewritten to snake_case ("local-address" becomes
// "local_address"). A nil l discards everything.
//
// Filtering is left to l's handler unless SetLevel sets an hclog level,
// which then applies to this logger and every logger derived from it.
func NewHCLogger(l *slog.Logger, name string) hclog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	level := new(atomic.Int32)
	level.Store(int32(hclog.NoLevel))
	return &hcLogger{handler: l.Handler(), name: name, level: level}
}

// hcLogger adapts hclog.Logger to a slog.Handler.
type hcLogger struct {
	handler slog.Handler
	name    string
	implied []any         // raw With arguments, for ImpliedArgs
	attrs   []slog.Attr   // implied converted once
	level   *atomic.Int32 // hclog.Level set by SetLevel, shared with derived loggers
}

var _ hclog.Logger = (*hcLogger)(nil)

// slogLevel maps an hclog level to slog. Trace sits below slog's Debug;
// NoLevel, which hclog treats as unset, maps to Info.
func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (h *hcLogger) enabled(level hclog.Level) bool {
	if level == hclog.Off {
		return false
	}
	if set := hclog.Level(h.level.Load()); set != hclog.NoLevel && level < set {
		return false
	}
	return h.handler.Enabled(context.Background(), slogLevel(level))
}

func (h *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	if !h.enabled(level) {
		return
	}

	// pc 0 leaves the source empty, because the caller of this adapter is
	// always the hashicorp library, never the code that configured slog.
	record := slog.NewRecord(time.Now(), slogLevel(level), msg, 0)
	if h.name != "" {
		record.AddAttrs(slog.String("logger", h.name))
	}
	record.AddAttrs(h.attrs...)
	record.AddAttrs(convertArgs(args)...)
	_ = h.handler.Handle(context.Background(), record)
}

func (h *hcLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hcLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hcLogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hcLogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hcLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hcLogger) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hcLogger) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hcLogger) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hcLogger) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hcLogger) IsError() bool { return h.enabled(hclog.Error) }

func (h *hcLogger) ImpliedArgs() []any {
	return append([]any(nil), h.implied...)
}

func (h *hcLogger) With(args ...any) hclog.Logger {
	derived := *h
	derived.implied = append(append([]any(nil), h.implied...), args...)
	derived.attrs = append(append([]slog.Attr(nil), h.attrs...), convertArgs(args)...)
	return &derived
}

func (h *hcLogger) Name() string { return h.name }

func (h *hcLogger) Named(name string) hclog.Logger {
	derived := *h
	if h.name != "" {
		derived.name = h.name + "." + name
	} else {
		derived.name = name
	}
	return &derived
}

func (h *hcLogger) ResetNamed(name string) hclog.Logger {
	derived := *h
	derived.name = name
	return &derived
}

func (h *hcLogger) SetLevel(level hclog.Level) {
	h.level.Store(int32(level))
}

// GetLevel returns the level set by SetLevel, or else the lowest hclog level
// that the slog handler accepts.
func (h *hcLogger) GetLevel() hclog.Level {
	if set := hclog.Level(h.level.Load()); set != hclog.NoLevel {
		return set
	}
	for _, level := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.handler.Enabled(context.Background(), slogLevel(level)) {
			return level
		}
	}
	return hclog.Off
}

func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

// StandardWriter returns a writer that logs each line written to it. With
// InferLevels it reads the level from a "[DEBUG]"-style prefix, and with
// InferLevelsWithTimestamp it first skips a standard library log timestamp.
// ForceLevel overrides both. Lines without a level are logged at Info.
func (h *hcLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	w := &stdWriter{logger: h}
	if opts != nil {
		w.opts = *opts
	}
	return w
}

// stdWriter turns standard library log output into hclog calls. log.Logger
// calls Write once per message, so a message never spans two writes.
type stdWriter struct {
	logger *hcLogger
	opts   hclog.StandardLoggerOptions
}

func (w *stdWriter) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		text := strings.TrimRight(string(line), "\r\n")
		if text == "" {
			continue
		}
		level, msg := w.levelOf(text)
		w.logger.Log(level, msg)
	}
	return len(p), nil
}

func (w *stdWriter) levelOf(line string) (hclog.Level, string) {
	if w.opts.ForceLevel != hclog.NoLevel {
		return w.opts.ForceLevel, line
	}
	if !w.opts.InferLevels && !w.opts.InferLevelsWithTimestamp {
		return hclog.Info, line
	}
	if w.opts.InferLevelsWithTimestamp {
		line = trimTimestamp(line)
	}

	prefixes := []struct {
		prefix string
		level  hclog.Level
	}{
		{"[TRACE]", hclog.Trace},
		{"[DEBUG]", hclog.Debug},
		{"[INFO]", hclog.Info},
		{"[WARN]", hclog.Warn},
		{"[ERROR]", hclog.Error},
		{"[ERR]", hclog.Error},
	}
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(line, p.prefix); ok {
			return p.level, strings.TrimSpace(rest)
		}
	}
	return hclog.Info, line
}

// trimTimestamp removes a leading "2006/01/02 15:04:05.000000 " style
// timestamp, recognised as digits, slashes, colons, dots and spaces before
// the first "[".
func trimTimestamp(line string) string {
	head, _, found := strings.Cut(line, "[")
	if !found || head == "" {
		return line
	}
	if strings.Trim(head, "0123456789/:. ") != "" {
		return line
	}
	return line[len(head):]
}

// convertArgs turns hclog's alternating keys and values into slog
// attributes. A trailing key without a value is logged under
// "extra_value", and hclog's formatting wrappers are rendered as hclog
// renders them.
func convertArgs(args []any) []slog.Attr {
	if len(args) == 0 {
		return nil
	}
	attrs := make([]slog.Attr, 0, (len(args)+1)/2)
	for i := 0; i < len(args); i += 2 {
		if i+1 == len(args) {
			attrs = append(attrs, slog.Any("extra_value", convertValue(args[i])))
			break
		}
		attrs = append(attrs, slog.Any(snakeKey(fmt.Sprint(args[i])), convertValue(args[i+1])))
	}
	return attrs
}

func convertValue(v any) any {
	switch v := v.(type) {
	case hclog.Format:
		if len(v) == 0 {
			return ""
		}
		format, ok := v[0].(string)
		if !ok {
			return fmt.Sprint(v...)
		}
		return fmt.Sprintf(format, v[1:]...)
	case hclog.Hex:
		return fmt.Sprintf("0x%x", int(v))
	case hclog.Octal:
		return fmt.Sprintf("0%o", int(v))
	case hclog.Binary:
		return fmt.Sprintf("0b%b", int(v))
	case hclog.Quote:
		return fmt.Sprintf("%q", string(v))
	default:
		return v
	}
}

// snakeKey lowercases key and replaces dashes, dots and spaces with
// underscores, so "backoff time" and "local-address" follow the snake_case
// keys of the rest of the project.
func snakeKey(key string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '.', ' ':
			return '_'
		}
		return r
	}, strings.ToLower(key))
}
