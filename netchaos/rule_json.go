package netchaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// ruleJSON is the wire form of a Rule: durations are Go duration strings
// such as "200ms", so that people can read and write fault tables.
type ruleJSON struct {
	ID          string        `json:"id,omitempty"`
	From        string        `json:"from"`
	To          string        `json:"to"`
	Kind        Kind          `json:"kind"`
	Probability float64       `json:"probability,omitempty"`
	Delay       string        `json:"delay,omitempty"`
	Jitter      string        `json:"jitter,omitempty"`
	Messages    []MessageKind `json:"messages,omitempty"`
	TTL         string        `json:"ttl,omitempty"`
	ExpiresAt   *time.Time    `json:"expires_at,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (r Rule) MarshalJSON() ([]byte, error) {
	out := ruleJSON{
		ID: r.ID, From: r.From, To: r.To, Kind: r.Kind, Probability: r.Probability,
		Delay: durationText(r.Delay), Jitter: durationText(r.Jitter), Messages: r.Messages, TTL: durationText(r.TTL),
	}
	if !r.ExpiresAt.IsZero() {
		at := r.ExpiresAt.UTC()
		out.ExpiresAt = &at
	}
	return json.Marshal(out)
}

// UnmarshalJSON implements json.Unmarshaler. It rejects unknown fields and
// malformed durations with an error that names the field; it does not
// validate the rule as a whole (Validate does).
func (r *Rule) UnmarshalJSON(data []byte) error {
	var in ruleJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRule, err)
	}
	delay, err := parseDurationField("delay", in.Delay)
	if err != nil {
		return err
	}
	jitter, err := parseDurationField("jitter", in.Jitter)
	if err != nil {
		return err
	}
	ttl, err := parseDurationField("ttl", in.TTL)
	if err != nil {
		return err
	}
	*r = Rule{
		ID: in.ID, From: in.From, To: in.To, Kind: in.Kind, Probability: in.Probability,
		Delay: delay, Jitter: jitter, Messages: in.Messages, TTL: ttl,
	}
	if in.ExpiresAt != nil {
		r.ExpiresAt = *in.ExpiresAt
	}
	return nil
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func parseDurationField(field, text string) (time.Duration, error) {
	if text == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, fmt.Errorf("%w: field %q: %q is not a duration such as 200ms or 5m", ErrInvalidRule, field, text)
	}
	return d, nil
}
