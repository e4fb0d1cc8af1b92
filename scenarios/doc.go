// Package scenarios holds faultline's scenario catalog, the runner that
// repeats a scenario against a cluster, the recovery-time measurements taken
// from the cluster's leadership timeline, and the reports.
//
// A Scenario runs one repetition against a cluster.Cluster and returns named
// durations measured from timeline events. The Runner checks the steady
// state before each repetition, removes every fault it added on every exit
// path, cools down between repetitions, and judges the recovery time (RTO)
// against the scenario's target and maximum: a run passes when every
// repetition recovered, no safety check failed and the p95 RTO is within the
// target; it warns between target and maximum and fails past the maximum.
package scenarios
