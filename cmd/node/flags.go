package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/raftint"
)

// errUsage marks a bad command line or environment; main exits with 64.
var errUsage = errors.New("usage")

// flagHelp is returned by flag parsing for -h and --help.
var flagHelp = flag.ErrHelp

func newFlagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// maxBootstrapExpect bounds --bootstrap-expect to a cluster size raft
// handles well; larger clusters spend their time on replication.
const maxBootstrapExpect = 31

// nodeConfig is the parsed configuration of `node run`.
type nodeConfig struct {
	ID                string
	RaftAddr          string
	RaftAdvertise     string
	GossipAddr        string
	GossipAdvertise   string
	HTTPAddr          string
	HTTPAdvertise     string
	DataDir           string
	Join              []string
	BootstrapExpect   int
	Profile           raftint.Profile
	AdminToken        string
	Chaos             bool
	RemoveFailedAfter time.Duration
	Seed              int64
	FaultTTL          time.Duration
	LogLevel          slog.Level
	LogFormat         string
}

// option is one flag with its environment variable and default.
type option struct {
	flag, env, def, help string
}

var options = []option{
	{"id", "FAULTLINE_NODE_ID", "", "node ID: the raft server ID and the memberlist name (required)"},
	{"raft-addr", "FAULTLINE_RAFT_ADDR", "127.0.0.1:7000", "raft TCP bind address, host:port"},
	{"raft-advertise", "FAULTLINE_RAFT_ADVERTISE", "", "raft address the other nodes dial, host:port (default --raft-addr; required when --raft-addr binds every interface)"},
	{"gossip-addr", "FAULTLINE_GOSSIP_ADDR", "127.0.0.1:7946", "memberlist TCP and UDP bind address, host:port; keep the port fixed across restarts"},
	{"gossip-advertise", "FAULTLINE_GOSSIP_ADVERTISE", "", "memberlist address the other nodes use, host:port (default --gossip-addr)"},
	{"http-addr", "FAULTLINE_HTTP_ADDR", "127.0.0.1:8080", "admin API bind address, host:port; any address but loopback needs --admin-token"},
	{"http-advertise", "FAULTLINE_HTTP_ADVERTISE", "", "admin API address the others are pointed at, host:port (default --http-addr, or the raft advertise host with the HTTP port)"},
	{"data-dir", "FAULTLINE_DATA_DIR", "", "directory of the raft log, stable store and snapshots (required)"},
	{"join", "FAULTLINE_JOIN", "", "comma-separated gossip addresses of other nodes, host:port"},
	{"bootstrap-expect", "FAULTLINE_BOOTSTRAP_EXPECT", "0", "bootstrap raft once this many nodes are alive in memberlist; 0 only joins an existing cluster"},
	{"profile", "FAULTLINE_PROFILE", "default", "raft timing profile: default or fast"},
	{"admin-token", "FAULTLINE_ADMIN_TOKEN", "", "bearer token that mutating admin calls must carry; prefer the environment variable, which ps does not show"},
	{"chaos", "FAULTLINE_CHAOS", "on", "fault injection kill switch: on, or off to reject fault tables, failpoints and chaos operations"},
	{"remove-failed-after", "FAULTLINE_REMOVE_FAILED_AFTER", "0s", "remove a failed voter from raft after this long, when the rest keeps a spare node; 0 never removes"},
	{"seed", "FAULTLINE_SEED", "1", "seed of the fault table's and the random-fail operations' random decisions"},
	{"fault-ttl", "FAULTLINE_FAULT_TTL", "5m", "time to live of fault rules that set none"},
	{"log-level", "FAULTLINE_LOG_LEVEL", "info", "log level: debug, info, warn or error"},
	{"log-format", "FAULTLINE_LOG_FORMAT", "text", "log format on stderr: text or json"},
}

// lookup returns the value of each option: the flag when given, else the
// environment variable when set, else the default. names records where each
// value came from, for error messages.
func lookup(args []string, getenv func(string) string, usage io.Writer) (values, names map[string]string, err error) {
	fs := newFlagSet("node run", usage)
	raw := make(map[string]*string, len(options))
	for _, o := range options {
		raw[o.flag] = fs.String(o.flag, o.def, o.help+" [$"+o.env+"]")
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("%w: unexpected argument %q: node run takes flags only", errUsage, fs.Arg(0))
	}

	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	values, names = make(map[string]string), make(map[string]string)
	for _, o := range options {
		values[o.flag], names[o.flag] = o.def, "--"+o.flag
		switch env := getenv(o.env); {
		case given[o.flag]:
			values[o.flag] = *raw[o.flag]
		case env != "":
			values[o.flag], names[o.flag] = env, o.env
		}
	}
	return values, names, nil
}

// parseConfig parses and validates `node run` arguments with their
// environment equivalents. Every error wraps errUsage and names the flag.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (nodeConfig, error) {
	values, names, err := lookup(args, getenv, usage)
	if err != nil {
		return nodeConfig{}, err
	}

	p := parser{values: values, names: names}
	cfg := nodeConfig{
		ID:              p.nodeID("id"),
		RaftAddr:        p.hostPort("raft-addr", false),
		RaftAdvertise:   p.hostPort("raft-advertise", true),
		GossipAddr:      p.hostPort("gossip-addr", false),
		GossipAdvertise: p.hostPort("gossip-advertise", true),
		HTTPAddr:        p.hostPort("http-addr", false),
		HTTPAdvertise:   p.hostPort("http-advertise", true),
		DataDir:         p.required("data-dir"),
		Join:            p.list("join"),
		BootstrapExpect: p.integer("bootstrap-expect", 0, maxBootstrapExpect),
		AdminToken:      values["admin-token"],
		Chaos:           p.onOff("chaos"),
		Seed:            p.seed("seed"),
		LogFormat:       p.oneOf("log-format", "text", "json"),
	}
	cfg.Profile = raftint.Profile(p.oneOf("profile", string(raftint.ProfileDefault), string(raftint.ProfileFast)))
	cfg.RemoveFailedAfter = p.duration("remove-failed-after", false)
	cfg.FaultTTL = p.duration("fault-ttl", true)
	cfg.LogLevel = p.level("log-level")

	p.check(cfg)
	if len(p.errs) > 0 {
		return nodeConfig{}, fmt.Errorf("%w: %w", errUsage, errors.Join(p.errs...))
	}
	cfg.fillAdvertise()
	return cfg, nil
}

// fillAdvertise defaults each advertise address to its bind address, and
// the HTTP one to the raft advertise host when the HTTP bind host is not
// one the others can dial.
func (c *nodeConfig) fillAdvertise() {
	if c.RaftAdvertise == "" {
		c.RaftAdvertise = c.RaftAddr
	}
	if c.GossipAdvertise == "" && !bindsEverywhere(c.GossipAddr) {
		c.GossipAdvertise = c.GossipAddr
	}
	if c.HTTPAdvertise == "" {
		c.HTTPAdvertise = c.HTTPAddr
		if bindsEverywhere(c.HTTPAddr) {
			raftHost, _, _ := net.SplitHostPort(c.RaftAdvertise)
			_, httpPort, _ := net.SplitHostPort(c.HTTPAddr)
			c.HTTPAdvertise = net.JoinHostPort(raftHost, httpPort)
		}
	}
}

// bindsEverywhere reports whether addr has an empty or unspecified host.
func bindsEverywhere(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// parser collects every error of the configuration, each naming its flag or
// environment variable.
type parser struct {
	values, names map[string]string
	errs          []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: "+format, append([]any{p.names[name]}, args...)...))
}

func (p *parser) required(name string) string {
	v := strings.TrimSpace(p.values[name])
	if v == "" {
		p.fail(name, "missing: it is required")
	}
	return v
}

// nodeID returns a required node ID that fault rules and partition specs
// can name: no wildcard, and none of the separators of link and group specs.
func (p *parser) nodeID(name string) string {
	v := p.required(name)
	if strings.ContainsAny(v, "*,/ ") || strings.Contains(v, "->") {
		p.fail(name, fmt.Sprintf("%q is not a usable node ID: it must not contain '*', ',', '/', '->' or spaces", v))
	}
	return v
}

func (p *parser) hostPort(name string, optional bool) string {
	v := p.values[name]
	if v == "" && optional {
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		p.fail(name, "%q is not host:port, such as 127.0.0.1:7000", v)
		return ""
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		p.fail(name, "%q has port %q: use a port from 1 to 65535, fixed so that restarts reuse it", v, port)
	}
	if optional && bindsEverywhere(v) {
		p.fail(name, "%q does not name a host the others can dial: use an IP address or host name", v)
	}
	return v
}

func (p *parser) list(name string) []string {
	var out []string
	for _, item := range strings.Split(p.values[name], ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(item); err != nil {
			p.fail(name, "%q is not host:port", item)
			continue
		}
		out = append(out, item)
	}
	return out
}

func (p *parser) integer(name string, lowest, highest int) int {
	n, err := strconv.Atoi(p.values[name])
	if err != nil || n < lowest || n > highest {
		p.fail(name, "%q is not a whole number from %d to %d", p.values[name], lowest, highest)
	}
	return n
}

func (p *parser) seed(name string) int64 {
	n, err := strconv.ParseInt(p.values[name], 10, 64)
	if err != nil {
		p.fail(name, "%q is not a 64-bit integer", p.values[name])
	}
	return n
}

func (p *parser) onOff(name string) bool {
	switch p.values[name] {
	case "on":
		return true
	case "off":
		return false
	}
	p.fail(name, "%q is invalid: use on or off", p.values[name])
	return false
}

func (p *parser) oneOf(name string, choices ...string) string {
	for _, c := range choices {
		if p.values[name] == c {
			return c
		}
	}
	p.fail(name, "%q is invalid: use %s", p.values[name], strings.Join(choices, " or "))
	return ""
}

func (p *parser) duration(name string, positive bool) time.Duration {
	d, err := time.ParseDuration(p.values[name])
	switch {
	case err != nil:
		p.fail(name, "%q is not a duration such as 30s or 5m", p.values[name])
	case d < 0 || (positive && d == 0):
		p.fail(name, "%q must be above zero", p.values[name])
	}
	return d
}

func (p *parser) level(name string) slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(p.values[name])); err != nil {
		p.fail(name, "%q is invalid: use debug, info, warn or error", p.values[name])
	}
	return level
}

// check validates fields against each other.
func (p *parser) check(c nodeConfig) {
	if c.RaftAdvertise == "" && bindsEverywhere(c.RaftAddr) {
		p.fail("raft-advertise", "missing: --raft-addr %q binds every interface, so set the address the others dial", c.RaftAddr)
	}
	if c.HTTPAddr != "" && !admin.IsLoopback(c.HTTPAddr) && c.AdminToken == "" {
		p.fail("admin-token", "missing: --http-addr %q is not a loopback address, so mutating calls need a token", c.HTTPAddr)
	}
}
