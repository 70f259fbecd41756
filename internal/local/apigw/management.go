package apigw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// managementTimeLayout is ISO 8601 with milliseconds, as GetConnection returns it.
const managementTimeLayout = "2006-01-02T15:04:05.000Z"

// Error types of the API Gateway Management API, sent in x-amzn-ErrorType;
// the AWS SDK decodes them into the matching types.*Exception.
const (
	typeGone            = "GoneException"
	typePayloadTooLarge = "PayloadTooLargeException"
	typeForbidden       = "ForbiddenException"
	typeBadRequest      = "BadRequestException"
)

// connectionInfo is the GetConnection response body.
type connectionInfo struct {
	ConnectedAt  string   `json:"connectedAt"`
	Identity     identity `json:"identity"`
	LastActiveAt string   `json:"lastActiveAt"`
}

type identity struct {
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// bodyBuffers hold PostToConnection bodies, so that a fan-out does not
// allocate one per message.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// parseManagementPath splits /@connections/{id} and /{stage}/@connections/{id}.
// It works on the escaped path, so an ID holding "/" (%2F) stays one segment.
// It runs for every request, so it cuts rather than splits.
func parseManagementPath(u *url.URL) (stage, id string, ok bool) {
	first, rest, ok := strings.Cut(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	if !ok {
		return "", "", false
	}
	segs := [3]string{"", first, rest} // /@connections/{id}
	// /{stage}/@connections/{id}
	if second, third, deep := strings.Cut(rest, "/"); deep {
		if first == "" || strings.Contains(third, "/") {
			return "", "", false
		}
		segs = [3]string{first, second, third}
	}
	for i, s := range segs {
		v, err := url.PathUnescape(s)
		if err != nil {
			return "", "", false
		}
		segs[i] = v
	}
	if segs[1] != "@connections" || segs[2] == "" {
		return "", "", false
	}
	return segs[0], segs[2], true
}

// serveManagement serves one management API call. Requests need not be
// signed: the emulator accepts any (or no) SigV4 signature.
func (g *Gateway) serveManagement(w http.ResponseWriter, r *http.Request, stage, id string) {
	w.Header()["x-amzn-RequestId"] = []string{newUUID()}
	if stage != "" && stage != g.cfg.Stage {
		writeError(w, http.StatusForbidden, typeForbidden, "Forbidden")
		return
	}
	switch r.Method {
	case http.MethodPost:
		g.postToConnection(w, r, id)
	case http.MethodGet:
		g.getConnection(w, id)
	case http.MethodDelete:
		g.deleteConnection(w, id)
	default:
		w.Header().Set("Allow", "DELETE, GET, POST")
		writeError(w, http.StatusMethodNotAllowed, typeBadRequest, "Method not allowed")
	}
}

// postToConnection sends the request body to the client: a text message if
// it is valid UTF-8, else a binary one.
func (g *Gateway) postToConnection(w http.ResponseWriter, r *http.Request, id string) {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer bodyBuffers.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, int64(g.cfg.MaxMessageBytes)+1)); err != nil {
		writeError(w, http.StatusBadRequest, typeBadRequest, "Could not read the request body")
		return
	}
	data := buf.Bytes() // the WebSocket write copies it before buf goes back to the pool
	if len(data) > g.cfg.MaxMessageBytes {
		writeError(w, http.StatusRequestEntityTooLarge, typePayloadTooLarge, "Message too long")
		return
	}
	c := g.lookup(id)
	if c == nil {
		writeError(w, http.StatusGone, typeGone, "")
		return
	}
	typ := websocket.MessageText
	if !utf8.Valid(data) {
		typ = websocket.MessageBinary
	}
	if err := c.send(typ, data); err != nil {
		g.log.Warn("post to connection failed", "connection_id", id, "error", err)
		writeError(w, http.StatusGone, typeGone, "")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// getConnection describes a live connection.
func (g *Gateway) getConnection(w http.ResponseWriter, id string) {
	c := g.lookup(id)
	if c == nil {
		writeError(w, http.StatusGone, typeGone, "")
		return
	}
	// Marshalling a struct of strings cannot fail.
	body, _ := json.Marshal(connectionInfo{
		ConnectedAt:  c.connectedAt.UTC().Format(managementTimeLayout),
		Identity:     identity{SourceIP: c.sourceIP, UserAgent: c.userAgent},
		LastActiveAt: time.UnixMilli(c.lastActive.Load()).UTC().Format(managementTimeLayout),
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// deleteConnection closes a connection with 1000; $disconnect follows.
func (g *Gateway) deleteConnection(w http.ResponseWriter, id string) {
	c := g.lookup(id)
	if c == nil {
		writeError(w, http.StatusGone, typeGone, "")
		return
	}
	g.closeConn(c, websocket.StatusNormalClosure, reasonNormal)
	w.WriteHeader(http.StatusNoContent)
}

// writeError answers as the Management API does: the error type in the
// x-amzn-ErrorType header, a JSON body with a message, or an empty body
// (GoneException has none).
func writeError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header()["x-amzn-ErrorType"] = []string{errorType}
	if message == "" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(status)
		return
	}
	writeJSONMessage(w, status, message)
}

// writeJSONMessage writes {"message":"..."} with status.
func writeJSONMessage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"message":%q}`, message)
}
