package cluster

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestComposeConfigValidate(t *testing.T) {
	file := filepath.Join("..", "docker-compose.yml")
	cases := []struct {
		name   string
		change func(*ComposeConfig)
	}{
		{"missing file", func(c *ComposeConfig) { c.File = filepath.Join(t.TempDir(), "absent.yml") }},
		{"two nodes", func(c *ComposeConfig) { c.Size = 2 }},
		{"six nodes", func(c *ComposeConfig) { c.Size = 6 }},
		{"unknown profile", func(c *ComposeConfig) { c.Profile = "turbo" }},
		{"attach without project", func(c *ComposeConfig) { c.Attach, c.Token = true, "t" }},
		{"attach without token", func(c *ComposeConfig) { c.Attach, c.Project = true, "p" }},
		{"zero poll", func(c *ComposeConfig) { c.TimelinePoll = 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultComposeConfig()
			cfg.File = file
			tc.change(&cfg)
			if err := cfg.Validate(); err == nil {
				t.Errorf("Validate accepted %+v", cfg)
			}
		})
	}
	cfg := DefaultComposeConfig()
	cfg.File = file
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate of the default config: %v", err)
	}
}

func TestComposeEnv(t *testing.T) {
	cfg := DefaultComposeConfig()
	cfg.Token, cfg.Image, cfg.Seed = "s3cret", "faultline-node:test", 7
	env := composeEnv(cfg)
	for _, want := range []string{"FAULTLINE_ADMIN_TOKEN=s3cret", "FAULTLINE_IMAGE=faultline-node:test", "FAULTLINE_SEED=7", "FAULTLINE_HTTP_PORT_1=0", "FAULTLINE_HTTP_PORT_5=0"} {
		if !slices.Contains(env, want) {
			t.Errorf("environment %q lacks %s", env, want)
		}
	}
	cfg.Attach = true
	for _, kv := range composeEnv(cfg) {
		if strings.HasPrefix(kv, "FAULTLINE_HTTP_PORT_") {
			t.Errorf("attached environment sets %s; the running project's ports must stay", kv)
		}
	}
}

func TestDetectComposeWithoutDocker(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := DetectCompose(context.Background())
	if !errors.Is(err, ErrNoCompose) {
		t.Errorf("DetectCompose without docker on PATH: %v, want ErrNoCompose", err)
	}
}
