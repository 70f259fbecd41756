package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/local/oraclesim"
)

// TestRefusedUploadRetriedInSeconds: the stack's Oracle (a simulator in
// this test, reached through ORACLE_BASE_URL) refuses the first upload with
// 503. The user is told once that Oracle is unavailable and when the next
// try is, and the transfer completes: each read waits at most 60 s, far
// below the workflow queue's 720 s visibility timeout, which a refusal
// left to SQS would cost.
func TestRefusedUploadRetriedInSeconds(t *testing.T) {
	sim := oraclesim.New(oraclesim.Options{Username: "local", Password: "local", WaitFor: 250 * time.Millisecond,
		RunFor: time.Second})
	sim.FailNext(oraclesim.OpUpload, oraclesim.HTTP503, 1)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	s := startStack(t, "ORACLE_BASE_URL="+srv.URL)
	alice := s.dial(t, "123")
	if m := alice.next(); m["type"] != "connection_established" {
		t.Fatalf("first message = %v; want connection_established", m)
	}
	body, err := os.ReadFile("../../events/messages/budget-transfer.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(map[string]string{"queue": "workflow", "body": string(body)})
	resp, err := http.Post(s.URL+"/dev/send", "application/json", strings.NewReader(string(req)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /dev/send: %d", resp.StatusCode)
	}

	var retries []string
	var refusedAt time.Time
	for {
		m := alice.next()
		if m["type"] == "oracle_upload_failed" {
			t.Fatalf("upload failed: %v\nlogs:\n%s", m, s.logs)
		}
		if msg := fmt.Sprint(m["message"]); m["type"] == "oracle_upload_progress" && strings.HasPrefix(msg, "Oracle is unavailable") {
			retries = append(retries, msg)
			refusedAt = time.Now()
			if m["step_number"] != float64(2) || m["status"] != "processing" {
				t.Errorf("retry notice %v; want step 2, processing", m)
			}
		}
		if m["type"] == "oracle_upload_completed" {
			break
		}
	}
	t.Logf("completed %s of real time after the refused upload was announced", time.Since(refusedAt).Round(time.Millisecond))
	if len(retries) != 1 || !strings.Contains(retries[0], "HTTP 503") || !strings.Contains(retries[0], "next try at") {
		t.Errorf("retry notices = %q; want one saying HTTP 503 and the next try", retries)
	}
	if n := len(sim.Uploads()); n != 1 || sim.Calls(oraclesim.OpUpload) != 2 {
		t.Errorf("uploads accepted %d of %d calls; want 1 of 2", n, sim.Calls(oraclesim.OpUpload))
	}
}
