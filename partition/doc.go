// Package partition turns the partition command's fault flags into netchaos
// rules and installs one rule table on every node of a running cluster over
// the admin HTTP API.
//
// Parsing is separate from the network so that it can be fuzzed: ParseLink,
// ParseGroups, ParseTTL, ParseDelay and ParsePercent read one flag value each,
// and Spec.Validate checks the flags together. Spec.Rules builds the rules
// once the cluster's node IDs, and its leader if the spec names it, are known.
//
// Installing is all or nothing where the API allows it. The Installer first
// reads every node's table, so an unreachable node stops the run before any
// node changes. It then puts the same rules, with one version above every
// node's current version, on every node, so that the tables stay comparable
// by version alone.
package partition
