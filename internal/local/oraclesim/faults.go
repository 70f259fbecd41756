package oraclesim

import (
	"fmt"
	"net/http"
	"time"
)

// Fault is a scripted failure for FailNext.
type Fault int

// Faults the simulator can script.
const (
	HTTP401   Fault = iota + 1 // 401 Unauthorized, as for a wrong password
	HTTP403                    // 403 Forbidden, as for a missing role
	HTTP404                    // 404 Not Found
	HTTP429                    // 429 Too Many Requests, with Retry-After: 1
	HTTP500                    // 500 Internal Server Error
	HTTP503                    // 503 Service Unavailable
	Timeout                    // hold the request until the client gives up (at most Options.MaxHang), then 504
	Rejected                   // submissions: 201 with ReqstId "-1"; other operations: 400
	Malformed                  // 200 with a body that is not JSON
)

// String returns the fault's name.
func (f Fault) String() string {
	switch f {
	case HTTP401:
		return "HTTP401"
	case HTTP403:
		return "HTTP403"
	case HTTP404:
		return "HTTP404"
	case HTTP429:
		return "HTTP429"
	case HTTP500:
		return "HTTP500"
	case HTTP503:
		return "HTTP503"
	case Timeout:
		return "Timeout"
	case Rejected:
		return "Rejected"
	case Malformed:
		return "Malformed"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

type pendingFault struct {
	fault Fault
	left  int
}

// FailNext makes the next times requests for op (an Op constant, or OpAny for
// whichever operation comes) fail with f, after the credential check. Faults
// queue: FailNext(op, HTTP500, 2) then FailNext(op, Timeout, 1) fails the
// next three calls in that order. times below 1 counts as 1. Faults for a
// specific op are used before OpAny faults.
func (s *Sim) FailNext(op string, f Fault, times int) {
	if times < 1 {
		times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], pendingFault{fault: f, left: times})
}

// takeFault consumes the next fault for op, if any.
func (s *Sim) takeFault(op string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{op, OpAny} {
		q := s.faults[key]
		if len(q) == 0 {
			continue
		}
		f := q[0].fault
		q[0].left--
		if q[0].left == 0 {
			q = q[1:]
		}
		s.faults[key] = q
		return f, true
	}
	return 0, false
}

// applyFault answers the request with f.
func (s *Sim) applyFault(w http.ResponseWriter, r *http.Request, op string, f Fault) {
	switch f {
	case HTTP401:
		w.Header().Set("WWW-Authenticate", `Basic realm="fusion"`)
		s.writeText(w, http.StatusUnauthorized, "Authentication failed.")
	case HTTP403:
		s.writeText(w, http.StatusForbidden, "You don't have the privilege to perform this operation.")
	case HTTP404:
		s.writeText(w, http.StatusNotFound, "Not Found")
	case HTTP429:
		w.Header().Set("Retry-After", "1")
		s.writeText(w, http.StatusTooManyRequests, "Too Many Requests")
	case HTTP500:
		s.writeText(w, http.StatusInternalServerError, "Internal Server Error")
	case HTTP503:
		s.writeText(w, http.StatusServiceUnavailable, "Service Unavailable")
	case Timeout:
		t := time.NewTimer(s.opts.MaxHang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
			s.writeText(w, http.StatusGatewayTimeout, "Gateway Timeout")
		}
	case Rejected:
		if op == OpSubmit {
			s.writeJSON(w, http.StatusCreated, map[string]any{"OperationName": op, "ReqstId": "-1"})
			return
		}
		s.writeText(w, http.StatusBadRequest, "Bad Request")
	case Malformed:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html><body>Service temporarily redirected</body></html>"))
	default:
		s.writeText(w, http.StatusInternalServerError, "unknown fault "+f.String())
	}
}
