package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Secrets the stack of TestNoSecretInLogs is given, found in no log line.
const (
	e2eJWTSecret      = "e2e-jwt-secret-3f9a1c7be2d54"
	e2eOracleUser     = "fbdi.e2e.integration"
	e2eOraclePassword = "e2e-oracle-password-8b1d6e2f"
)

// TestNoSecretInLogs runs the whole flow with every log line on (debug):
// three connections, one for each place a token may be (the only
// subprotocol, an Authorization header, ?token=), a budget transfer through
// the Oracle simulator, resume, history, and the disconnects. Then no line
// of the stack, nor of the functions it runs, holds a token or a part of
// one, the JWT key, the Oracle password (plain or in a Basic auth header) or
// a query string.
func TestNoSecretInLogs(t *testing.T) {
	s := startStack(t, "LOG_LEVEL=debug", "JWT_SECRET="+e2eJWTSecret, "ORACLE_USERNAME="+e2eOracleUser,
		"ORACLE_PASSWORD="+e2eOraclePassword, "ORACLE_SIM_JOB_TIME=200ms", "ORACLE_POLL_INTERVAL=100ms")
	ws := "ws://127.0.0.1:" + s.Port + "/"
	byProtocol, byHeader, byQuery := s.token(t, "123"), s.token(t, "123"), s.token(t, "123")
	dial := func(name, url string, opts *websocket.DialOptions) *client {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, resp, err := websocket.Dial(ctx, url, opts)
		if err != nil {
			t.Fatalf("dial with the token %s: %v (response %v)\n%s", name, err, resp, s.logs)
		}
		conn.SetReadLimit(1 << 20)
		c := &client{tb: t, conn: conn}
		if m := c.next(); m["type"] != "connection_established" {
			t.Fatalf("token %s: first message = %v; want connection_established", name, m)
		}
		return c
	}
	clients := []*client{
		dial("as the only subprotocol", ws, &websocket.DialOptions{Subprotocols: []string{byProtocol}}),
		dial("as a Bearer header", ws, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + byHeader}}}),
		dial("in the query", ws+"?token="+byQuery, nil),
	}
	alice := clients[0]

	q := s.queues(t)
	if out, err := awsCLIAt(q.Endpoint, "sqs", "send-message", "--queue-url", q.Workflow,
		"--message-body", "file://../../events/messages/budget-transfer.json"); err != nil || !strings.Contains(out, "MessageId") {
		t.Fatalf("send-message: %v\n%s", err, out)
	}
	for {
		m := alice.next()
		if m["type"] == "oracle_upload_failed" {
			t.Fatalf("upload failed: %v\nlogs:\n%s", m, s.logs)
		}
		if m["type"] == "oracle_upload_completed" {
			break
		}
	}
	alice.send(map[string]any{"type": "resume", "limit": 50})
	for m := alice.next(); m["type"] != "resume_complete"; m = alice.next() {
		if m["replayed"] != true {
			t.Fatalf("during resume: %v", m)
		}
	}
	alice.send(map[string]any{"type": "history"})
	if m := alice.next(); m["type"] != "history" {
		t.Fatalf("history reply = %v", m)
	}
	for _, c := range clients {
		if err := c.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Every line is in once the gateway has logged the three disconnects
	// ($disconnect runs just after).
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(s.logs.String(), `"msg":"websocket disconnected"`) < len(clients) {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not log the disconnects\n%s", s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}

	secrets := map[string]string{
		"the JWT key":     e2eJWTSecret,
		"Oracle password": e2eOraclePassword,
		"Basic auth":      base64.StdEncoding.EncodeToString([]byte(e2eOracleUser + ":" + e2eOraclePassword)),
		"a query string":  "token=",
	}
	for name, tok := range map[string]string{"subprotocol": byProtocol, "header": byHeader, "query": byQuery} {
		secrets["the "+name+" token"] = tok
		parts := strings.Split(tok, ".")
		secrets["the "+name+" token's claims"] = parts[1]
		secrets["the "+name+" token's signature"] = parts[2]
	}
	lines := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
	if len(lines) < 20 {
		t.Fatalf("only %d log lines: is debug logging on?\n%s", len(lines), s.logs)
	}
	for i, line := range lines {
		for name, secret := range secrets {
			if strings.Contains(line, secret) {
				t.Errorf("log line %d holds %s: %s", i+1, name, line)
			}
		}
	}
	for _, want := range []string{"websocket connected", "connection welcomed", "message handled"} {
		if !strings.Contains(s.logs.String(), `"msg":"`+want+`"`) {
			t.Errorf("no %q line: the scan no longer covers it", want)
		}
	}
}
