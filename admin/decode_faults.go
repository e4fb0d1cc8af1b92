package admin

import (
	"encoding/json"
	"fmt"

	"github.com/faultline-dev/faultline/netchaos"
)

// ruleFields lists the JSON fields of a netchaos.Rule. Rule.UnmarshalJSON
// accepts fields it does not know, so the server checks them itself.
var ruleFields = map[string]bool{
	"id": true, "from": true, "to": true, "kind": true, "probability": true, "delay": true,
	"jitter": true, "messages": true, "ttl": true, "expires_at": true,
}

// installWire is InstallFaults with a required version and raw rules, so
// that each rule's errors name its index.
type installWire struct {
	Version *uint64           `json:"version"`
	Rules   []json.RawMessage `json:"rules"`
}

// decodeInstallFaults decodes and validates the body of PUT /v1/faults.
// Every rule must pass netchaos.Rule.Validate. Rule IDs and expiry times
// are left to the table, which sets expires_at from ttl on install.
func decodeInstallFaults(data []byte) (InstallFaults, *apiError) {
	var in installWire
	if e := decodeStrict(data, &in, ""); e != nil {
		return InstallFaults{}, e
	}
	if in.Version == nil {
		return InstallFaults{}, invalid("version",
			`field "version" is missing: send a version above the node's current one (GET /v1/faults returns it)`)
	}
	if *in.Version == 0 {
		return InstallFaults{}, invalid("version", `field "version" is 0: send a version above the node's current one`)
	}
	if in.Rules == nil {
		return InstallFaults{}, invalid("rules", `field "rules" is missing: send a list of rules, [] for none`)
	}

	out := InstallFaults{Version: *in.Version, Rules: make([]netchaos.Rule, 0, len(in.Rules))}
	ids := make(map[string]int, len(in.Rules))
	for i, raw := range in.Rules {
		rule, e := decodeRule(raw, fmt.Sprintf("rules[%d]", i))
		if e != nil {
			return InstallFaults{}, e
		}
		if rule.ID != "" {
			if first, dup := ids[rule.ID]; dup {
				return InstallFaults{}, invalid(fmt.Sprintf("rules[%d].id", i),
					fmt.Sprintf("rule id %q is also the id of rules[%d]: ids must be unique", rule.ID, first))
			}
			ids[rule.ID] = i
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

func decodeRule(raw json.RawMessage, field string) (netchaos.Rule, *apiError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return netchaos.Rule{}, invalid(field, field+" is not a JSON object: send a rule such as "+
			`{"from": "node-1", "to": "*", "kind": "partition"}`)
	}
	for name := range fields {
		if !ruleFields[name] {
			return netchaos.Rule{}, invalid(field+"."+name,
				fmt.Sprintf("unknown field %q in %s: remove it or check its spelling", name, field))
		}
	}
	var rule netchaos.Rule
	if err := json.Unmarshal(raw, &rule); err != nil {
		return netchaos.Rule{}, invalid(field, fmt.Sprintf("%s is invalid: %v", field, err))
	}
	if err := rule.Validate(); err != nil {
		return netchaos.Rule{}, invalid(field, fmt.Sprintf("%s (%s → %s) is invalid: %v", field, rule.From, rule.To, err))
	}
	return rule, nil
}
