package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/faultline-dev/faultline/netchaos"
)

func (s *Server) handleGetFaults(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, FaultTable{
		Version:  s.b.Faults.Version(),
		Rules:    nonNilRules(s.b.Faults.Rules()),
		Counters: s.b.Faults.Counters(),
	})
}

// handlePutFaults installs a whole fault table at the version the caller
// chose, all or nothing.
func (s *Server) handlePutFaults(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.ChaosEnabled {
		s.fail(w, r, chaosDisabled("installing a fault table"))
		return
	}
	data, e := readBody(w, r, s.cfg.MaxBodyBytes)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	in, e := decodeInstallFaults(data)
	if e != nil {
		s.fail(w, r, e)
		return
	}

	if err := s.b.Faults.Install(in.Version, in.Rules); err != nil {
		if errors.Is(err, netchaos.ErrVersionMismatch) {
			current := s.b.Faults.Version()
			s.fail(w, r, &apiError{status: http.StatusConflict, code: CodeVersionConflict, version: current, err: err,
				msg: fmt.Sprintf("version %d is not above the node's current version %d: install a higher version", in.Version, current)})
			return
		}
		s.fail(w, r, invalid("rules", "fault table rejected: "+err.Error()))
		return
	}
	s.log.Info("fault table installed", "version", in.Version, "rules", len(in.Rules))
	s.writeJSON(w, r, http.StatusOK, FaultTable{Version: in.Version, Rules: nonNilRules(s.b.Faults.Rules())})
}

// handleDeleteFaults removes every rule. It works with chaos off, because
// healing must always be possible.
func (s *Server) handleDeleteFaults(w http.ResponseWriter, r *http.Request) {
	s.b.Faults.Clear()
	version := s.b.Faults.Version()
	s.log.Info("fault table cleared", "version", version)
	s.writeJSON(w, r, http.StatusOK, FaultTable{Version: version, Rules: []netchaos.Rule{}})
}

func nonNilRules(rules []netchaos.Rule) []netchaos.Rule {
	if rules == nil {
		return []netchaos.Rule{}
	}
	return rules
}
