package notification_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/notification"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// at is a fixed instant; IDs are fixed per case so the golden files are stable.
var at = time.Date(2026, 11, 26, 9, 30, 0, 123000000, time.UTC)

func TestWireFormatGolden(t *testing.T) {
	tests := []struct {
		name string
		note notification.Notification
		// keys the old Django Channels module sent for this type; every one must be present
		oldKeys []string
	}{
		{"connection_established", notification.ConnectionEstablished("123", "L0SM9cOFvHcCIhw="),
			[]string{"type", "message", "user_id", "connection_id"}},
		{"notification", notification.General("Budget approved", map[string]any{"transfer": "602", "amount": 650}),
			[]string{"type", "message", "data"}},
		{"notification_without_data", notification.General("Hello", nil),
			[]string{"type", "message", "data"}},
		{"oracle_upload_started", notification.UploadStarted("602", "Starting Oracle upload"),
			[]string{"type", "transaction_id", "message"}},
		{"oracle_upload_progress", notification.UploadProgress("602", "Upload to UCM", 2, 5, notification.StatusProcessing, "Uploading"),
			[]string{"type", "transaction_id", "step", "step_number", "total_steps", "message", "status"}},
		{"oracle_upload_completed", notification.UploadCompleted("602", "Budget transfer imported", "/oracle/requests/14557"),
			[]string{"type", "transaction_id", "message", "success", "result_path"}},
		{"oracle_upload_failed", notification.UploadFailed("602", "Budget import failed", "ESS job 14558 ended in ERROR"),
			[]string{"type", "transaction_id", "message", "error"}},
		// As stored and replayed by resume: with its cursor (its position
		// in the user's history) and the replayed flag.
		{"notification_replayed", func() notification.Notification {
			n := notification.General("Budget approved", map[string]any{"transfer": "602"})
			n.Cursor, n.Replayed = "c42", true
			return n
		}(), []string{"type", "message", "data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.note
			n.ID, n.Timestamp = "01KB0000000000000000000000", at
			got, err := json.MarshalIndent(n, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.TrimSpace(want), got) {
				t.Fatalf("wire format changed:\n%s\nwant\n%s", got, want)
			}
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range append(tt.oldKeys, "id", "timestamp") {
				if _, ok := m[k]; !ok {
					t.Errorf("key %q missing", k)
				}
			}
		})
	}
}

func TestStampSetsSortableIDAndUTCTimestamp(t *testing.T) {
	local := time.FixedZone("GST", 4*3600)
	var ids []string
	for i := range 1000 {
		n := notification.General("x", nil)
		n.Stamp(at.In(local).Add(time.Duration(i/100) * time.Millisecond))
		if n.Timestamp.Location() != time.UTC {
			t.Fatalf("timestamp %v is not UTC", n.Timestamp)
		}
		ids = append(ids, n.ID)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("IDs made in order do not sort in order")
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] || len(id) != 26 {
			t.Fatalf("bad or duplicate id %q", id)
		}
		seen[id] = true
	}
	n := notification.General("x", nil)
	n.Stamp(at)
	data, _ := json.Marshal(n)
	if !strings.Contains(string(data), `"timestamp":"2026-11-26T09:30:00.123Z"`) {
		t.Fatalf("timestamp not RFC 3339 UTC: %s", data)
	}
	first := n.ID
	n.Stamp(at.Add(time.Hour))
	if n.ID != first {
		t.Fatal("Stamp replaced an existing ID")
	}
}
