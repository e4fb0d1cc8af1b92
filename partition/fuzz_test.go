package partition

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/netchaos"
)

// The fuzz targets check properties that hold for every input: a parser
// either rejects the text with ErrInvalidSpec or returns a value that is
// valid and reads back the same when formatted again. Seed inputs live in
// testdata/fuzz/<target>/; run one with go test -fuzz=FuzzParseLink ./partition/.

func FuzzParseLink(f *testing.F) {
	f.Add("node-1->node-2")
	f.Fuzz(func(t *testing.T, text string) {
		link, err := ParseLink("--link", text)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("ParseLink(%q) error %v is not ErrInvalidSpec", text, err)
			}
			return
		}
		again, err := ParseLink("--link", link.String())
		if err != nil || again != link {
			t.Fatalf("ParseLink(%q) = %+v, which reads back as %+v, %v", text, link, again, err)
		}
		rule := netchaos.Cut(link.From, link.To, netchaos.KindPartition)
		if err := rule.Validate(); err != nil {
			t.Fatalf("ParseLink(%q) = %+v, an invalid rule: %v", text, link, err)
		}
	})
}

func FuzzParseGroups(f *testing.F) {
	f.Add("node-1,node-2/node-3")
	f.Fuzz(func(t *testing.T, text string) {
		groups, err := ParseGroups("--split", text)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("ParseGroups(%q) error %v is not ErrInvalidSpec", text, err)
			}
			return
		}
		if len(groups) < 2 {
			t.Fatalf("ParseGroups(%q) = %q, fewer than two groups", text, groups)
		}
		all := slices.Concat(groups...)
		seen := make(map[string]bool)
		for _, id := range all {
			if seen[id] {
				t.Fatalf("ParseGroups(%q) = %q, %s twice", text, groups, id)
			}
			seen[id] = true
			if checkNodeID(id) != nil {
				t.Fatalf("ParseGroups(%q) returned the invalid ID %q", text, id)
			}
		}
		parts := make([]string, len(groups))
		for i, g := range groups {
			parts[i] = strings.Join(g, ",")
		}
		again, err := ParseGroups("--split", strings.Join(parts, "/"))
		if err != nil || !slices.EqualFunc(again, groups, slices.Equal) {
			t.Fatalf("ParseGroups(%q) = %q, which reads back as %q, %v", text, groups, again, err)
		}
		for _, r := range netchaos.Split(netchaos.KindReject, groups...) {
			if err := r.Validate(); err != nil {
				t.Fatalf("ParseGroups(%q) gives an invalid rule %+v: %v", text, r, err)
			}
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	f.Add("30s")
	f.Fuzz(func(t *testing.T, text string) {
		ttl, err := ParseTTL("--duration", text)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("ParseTTL(%q) error %v is not ErrInvalidSpec", text, err)
			}
		} else if ttl <= 0 || ttl > MaxTTL {
			t.Fatalf("ParseTTL(%q) = %v, outside (0, %v]", text, ttl, MaxTTL)
		} else if again, err := ParseTTL("--duration", ttl.String()); err != nil || again != ttl {
			t.Fatalf("ParseTTL(%q) = %v, which reads back as %v, %v", text, ttl, again, err)
		}

		delay, err := ParseDelay("--delay", text)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("ParseDelay(%q) error %v is not ErrInvalidSpec", text, err)
			}
			return
		}
		rule := netchaos.Rule{From: "*", To: "*", Kind: netchaos.KindDelay, Delay: delay, Jitter: delay}
		if delay <= 0 || rule.Validate() != nil {
			t.Fatalf("ParseDelay(%q) = %v, not a valid delay", text, delay)
		}
	})
}

func FuzzParsePercent(f *testing.F) {
	f.Add("20%")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParsePercent("--drop", text)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("ParsePercent(%q) error %v is not ErrInvalidSpec", text, err)
			}
			return
		}
		if !(p > 0 && p <= 1) {
			t.Fatalf("ParsePercent(%q) = %v, outside (0, 1]", text, p)
		}
		again, err := ParsePercent("--drop", strconv.FormatFloat(p, 'g', -1, 64))
		if err != nil || again != p {
			t.Fatalf("ParsePercent(%q) = %v, which reads back as %v, %v", text, p, again, err)
		}
		rule := netchaos.Rule{From: "*", To: "*", Kind: netchaos.KindDrop, Probability: p}
		if err := rule.Validate(); err != nil {
			t.Fatalf("ParsePercent(%q) = %v, an invalid drop rule: %v", text, p, err)
		}
	})
}

func FuzzParseEndpoints(f *testing.F) {
	f.Add("node-1=http://127.0.0.1:8081,http://127.0.0.1:8082")
	f.Fuzz(func(t *testing.T, text string) {
		eps, err := ParseEndpoints("--nodes", text)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("ParseEndpoints(%q) error %v is not ErrInvalidSpec", text, err)
			}
			return
		}
		parts := make([]string, len(eps))
		for i, ep := range eps {
			if _, err := NormalizeURL(ep.URL); err != nil {
				t.Fatalf("ParseEndpoints(%q) returned the invalid URL %q: %v", text, ep.URL, err)
			}
			parts[i] = ep.URL
			if ep.ID != "" {
				parts[i] = ep.ID + "=" + ep.URL
			}
		}
		again, err := ParseEndpoints("--nodes", strings.Join(parts, ","))
		if err != nil || !slices.Equal(again, eps) {
			t.Fatalf("ParseEndpoints(%q) = %+v, which reads back as %+v, %v", text, eps, again, err)
		}
	})
}
