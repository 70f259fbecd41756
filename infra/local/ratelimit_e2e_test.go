package main

import "testing"

// TestLocalStackRateLimitsConnections: the local stack runs the
// MessageFunction's per-connection budget (100 units per 10 s window): a
// client that keeps sending gets rate_limited with retry_after once it has
// spent it, and the connection stays open. A window may end while it sends,
// so the test only bounds how many messages that takes.
func TestLocalStackRateLimitsConnections(t *testing.T) {
	s := startStack(t)
	c := s.dial(t, "123")
	if m := c.next(); m["type"] != "connection_established" {
		t.Fatalf("first message = %v", m)
	}
	for i := 1; ; i++ {
		if i > 250 {
			t.Fatal("250 pings in a row and none was rate limited")
		}
		c.send(map[string]any{"type": "ping", "timestamp": i})
		m := c.next()
		if m["type"] == "pong" {
			continue
		}
		if m["type"] != "error" || m["code"] != "rate_limited" {
			t.Fatalf("reply to ping %d = %v; want a pong or rate_limited", i, m)
		}
		if after, _ := m["retry_after"].(float64); after < 1 || after > 10 {
			t.Errorf("retry_after = %v; want 1 to 10 seconds", m["retry_after"])
		}
		if i <= 100 {
			t.Errorf("rate limited at ping %d, within the budget of 100", i)
		}
		break
	}
	c.send(map[string]any{"type": "ping", "timestamp": "after"}) // still open
	if m := c.next(); m["type"] != "pong" && m["code"] != "rate_limited" {
		t.Fatalf("after the limit: %v", m)
	}
}
