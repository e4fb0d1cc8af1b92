package admin

import (
	"net/http"
	"strconv"
)

func (s *Server) handleGetKey(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if e := validateKey(key); e != nil {
		s.fail(w, r, e)
		return
	}
	consistent := false
	if text := r.URL.Query().Get("consistent"); text != "" {
		parsed, err := strconv.ParseBool(text)
		if err != nil {
			s.fail(w, r, invalid("consistent", "consistent "+strconv.Quote(text)+" is not a boolean: use true or false"))
			return
		}
		consistent = parsed
	}

	if !consistent {
		value, found := s.b.Raft.Get(key)
		s.writeJSON(w, r, http.StatusOK, KVValue{Key: key, Value: value, Found: found})
		return
	}
	value, found, err := s.b.Raft.ReadLinearizable(key, s.cfg.ApplyTimeout)
	if err != nil {
		s.fail(w, r, s.raftError(err, "linearizable read of key "+strconv.Quote(key), false))
		return
	}
	s.writeJSON(w, r, http.StatusOK, KVValue{Key: key, Value: value, Found: found})
}

// keyAndBody reads the key from the path and the request body. When either
// is invalid it writes the error response and returns false.
func (s *Server) keyAndBody(w http.ResponseWriter, r *http.Request) (string, []byte, bool) {
	key := r.PathValue("key")
	if e := validateKey(key); e != nil {
		s.fail(w, r, e)
		return "", nil, false
	}
	data, e := readBody(w, r, s.cfg.MaxBodyBytes)
	if e != nil {
		s.fail(w, r, e)
		return "", nil, false
	}
	return key, data, true
}

func (s *Server) handlePutKey(w http.ResponseWriter, r *http.Request) {
	key, data, ok := s.keyAndBody(w, r)
	if !ok {
		return
	}
	in, e := decodePut(data)
	if e != nil {
		s.fail(w, r, e)
		return
	}

	index, err := s.b.Raft.Put(key, in.Value, s.cfg.ApplyTimeout)
	if err != nil {
		s.fail(w, r, s.raftError(err, "write of key "+strconv.Quote(key), true))
		return
	}
	s.writeJSON(w, r, http.StatusOK, WriteResult{Index: index})
}

func (s *Server) handleCAS(w http.ResponseWriter, r *http.Request) {
	key, data, ok := s.keyAndBody(w, r)
	if !ok {
		return
	}
	in, e := decodeCAS(data)
	if e != nil {
		s.fail(w, r, e)
		return
	}

	ok, index, err := s.b.Raft.CompareAndSet(key, in.Expected, in.Value, s.cfg.ApplyTimeout)
	if err != nil {
		s.fail(w, r, s.raftError(err, "compare-and-set of key "+strconv.Quote(key), true))
		return
	}
	s.writeJSON(w, r, http.StatusOK, CASResult{OK: ok, Index: index})
}
