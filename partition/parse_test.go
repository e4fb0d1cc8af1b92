package partition

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
)

func TestParseLink(t *testing.T) {
	cases := []struct {
		text string
		want Link
		ok   bool
	}{
		{"node-1->node-2", Link{"node-1", "node-2"}, true},
		{" node-1 -> node-2 ", Link{"node-1", "node-2"}, true},
		{"node-1->*", Link{"node-1", "*"}, true},
		{"*->node-2", Link{"*", "node-2"}, true},
		{"*->*", Link{"*", "*"}, true},
		{"a.b_c:1->d", Link{"a.b_c:1", "d"}, true},
		{"node-1", Link{}, false},
		{"node-1-node-2", Link{}, false},
		{"node-1->", Link{}, false},
		{"->node-2", Link{}, false},
		{"node-1->node-1", Link{}, false},
		{"node-1->node-2->node-3", Link{}, false},
		{"node 1->node-2", Link{}, false},
		{"node-1,node-3->node-2", Link{}, false},
		{"node-1/x->node-2", Link{}, false},
		{"node-1=x->node-2", Link{}, false},
		{"node-1\x00->node-2", Link{}, false},
		{"\xff->node-2", Link{}, false},
		{"", Link{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			got, err := ParseLink("--link", tc.text)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidSpec) {
					t.Fatalf("ParseLink(%q) error = %v, want ErrInvalidSpec", tc.text, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLink(%q): %v", tc.text, err)
			}
			if got != tc.want {
				t.Errorf("ParseLink(%q) = %+v, want %+v", tc.text, got, tc.want)
			}
		})
	}
}

func TestParseLinkErrorNamesFlag(t *testing.T) {
	_, err := ParseLink("--one-way", "node-1")
	if err == nil || !containsAll(err.Error(), "--one-way", "FROM->TO") {
		t.Errorf("error %v does not name the flag and the syntax", err)
	}
}

func TestParseGroups(t *testing.T) {
	cases := []struct {
		text string
		want [][]string
		ok   bool
	}{
		{"node-1,node-2/node-3", [][]string{{"node-1", "node-2"}, {"node-3"}}, true},
		{"a/b/c", [][]string{{"a"}, {"b"}, {"c"}}, true},
		{" a , b / c ", [][]string{{"a", "b"}, {"c"}}, true},
		{"a,b", nil, false},
		{"a/", nil, false},
		{"/a", nil, false},
		{"a//b", nil, false},
		{"a,,b/c", nil, false},
		{"a,a/b", nil, false},
		{"a/b,a", nil, false},
		{"a/*", nil, false},
		{"a/b c", nil, false},
		{"a/b->c", nil, false},
		{"", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			got, err := ParseGroups("--split", tc.text)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidSpec) {
					t.Fatalf("ParseGroups(%q) error = %v, want ErrInvalidSpec", tc.text, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseGroups(%q): %v", tc.text, err)
			}
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("ParseGroups(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestParseTTL(t *testing.T) {
	cases := []struct {
		text string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"5m", 5 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"24h", MaxTTL, true},
		{" 2s ", 2 * time.Second, true},
		{"24h1ns", 0, false},
		{"1s", MinTTL, true},
		{"999ms", 0, false},
		{"1ns", 0, false},
		{"0", 0, false},
		{"0s", 0, false},
		{"-5s", 0, false},
		{"30", 0, false},
		{"forever", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			got, err := ParseTTL("--duration", tc.text)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidSpec) {
					t.Fatalf("ParseTTL(%q) error = %v, want ErrInvalidSpec", tc.text, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTTL(%q): %v", tc.text, err)
			}
			if got != tc.want {
				t.Errorf("ParseTTL(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestParseDelay(t *testing.T) {
	cases := []struct {
		text string
		want time.Duration
		ok   bool
	}{
		{"200ms", 200 * time.Millisecond, true},
		{"1.5s", 1500 * time.Millisecond, true},
		{"1us", time.Microsecond, true},
		{"0ms", 0, false},
		{"-1ms", 0, false},
		{"200", 0, false},
		{"25h", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			got, err := ParseDelay("--delay", tc.text)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidSpec) {
					t.Fatalf("ParseDelay(%q) error = %v, want ErrInvalidSpec", tc.text, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDelay(%q): %v", tc.text, err)
			}
			if got != tc.want {
				t.Errorf("ParseDelay(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestParsePercent(t *testing.T) {
	cases := []struct {
		text string
		want float64
		ok   bool
	}{
		{"20%", 0.2, true},
		{"100%", 1, true},
		{"0.5%", 0.005, true},
		{" 20 % ", 0.2, true},
		{"0.2", 0.2, true},
		{"1", 1, true},
		{"1e-3", 0.001, true},
		{"0%", 0, false},
		{"0", 0, false},
		{"-5%", 0, false},
		{"-0.2", 0, false},
		{"100.1%", 0, false},
		{"20", 0, false},
		{"150", 0, false},
		{"20%%", 0, false},
		{"%", 0, false},
		{"NaN", 0, false},
		{"NaN%", 0, false},
		{"Inf", 0, false},
		{"+Inf%", 0, false},
		{"twenty", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			got, err := ParsePercent("--drop", tc.text)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidSpec) {
					t.Fatalf("ParsePercent(%q) error = %v, want ErrInvalidSpec", tc.text, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePercent(%q): %v", tc.text, err)
			}
			if got != tc.want {
				t.Errorf("ParsePercent(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	cases := []struct {
		text string
		want netchaos.Kind
		ok   bool
	}{
		{"partition", netchaos.KindPartition, true},
		{"reject", netchaos.KindReject, true},
		{"drop", "", false},
		{"delay", "", false},
		{"Partition", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			got, err := ParseKind("--kind", tc.text)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidSpec) {
					t.Fatalf("ParseKind(%q) error = %v, want ErrInvalidSpec", tc.text, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseKind(%q) = %q, %v; want %q", tc.text, got, err, tc.want)
			}
		})
	}
}

func TestParseEndpoints(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []Endpoint
		ok   bool
	}{
		{"ids and urls", "node-1=http://127.0.0.1:8081,node-2=http://127.0.0.1:8082",
			[]Endpoint{{"node-1", "http://127.0.0.1:8081"}, {"node-2", "http://127.0.0.1:8082"}}, true},
		{"bare urls", "http://127.0.0.1:8081, https://127.0.0.1:8082/",
			[]Endpoint{{"", "http://127.0.0.1:8081"}, {"", "https://127.0.0.1:8082"}}, true},
		{"no scheme", "node-1=127.0.0.1:8081,127.0.0.1:8082",
			[]Endpoint{{"node-1", "http://127.0.0.1:8081"}, {"", "http://127.0.0.1:8082"}}, true},
		{"ipv6", "n=http://[::1]:8081", []Endpoint{{"n", "http://[::1]:8081"}}, true},
		{"empty entry", "node-1=http://127.0.0.1:8081,,", nil, false},
		{"empty", "", nil, false},
		{"duplicate id", "a=http://127.0.0.1:1,a=http://127.0.0.1:2", nil, false},
		{"duplicate url", "a=http://127.0.0.1:1,b=http://127.0.0.1:1", nil, false},
		{"empty id", "=http://127.0.0.1:1", nil, false},
		{"bad scheme", "a=ftp://127.0.0.1:1", nil, false},
		{"path", "a=http://127.0.0.1:1/v1", nil, false},
		{"query", "http://127.0.0.1:1/?a=b", nil, false},
		{"user info", "a=http://me:secret@127.0.0.1:1", nil, false},
		{"no host", "a=http://", nil, false},
		{"space in id", "node 1=http://127.0.0.1:1", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEndpoints("--nodes", tc.text)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidSpec) {
					t.Fatalf("ParseEndpoints(%q) error = %v, want ErrInvalidSpec", tc.text, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEndpoints(%q): %v", tc.text, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ParseEndpoints(%q) = %+v, want %+v", tc.text, got, tc.want)
			}
		})
	}
}
