package mail_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/notification"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the templates")

// TestRenderGolden pins the e-mails of one failed and one completed
// transfer, and of a digest, as rendered text and HTML
// (go test ./internal/mail -update rewrites them).
func TestRenderGolden(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 30, 0, 123e6, time.UTC)
	fail := failed("01KB0000000000000000000000", "602")
	fail.Timestamp = at
	done := completed("01KB0000000000000000000001", "602")
	done.Timestamp, done.ResultPath = at.Add(time.Minute), "/oracle/requests/14557"
	other := notification.Notification{ID: "01KB0000000000000000000002", Type: notification.TypeNotification,
		Message: "Period <JAN-27> opens <b>tomorrow</b>", Timestamp: at.Add(2 * time.Minute)}
	tests := []struct {
		name  string
		notes []notification.Notification
		more  bool
	}{
		{name: "oracle_upload_failed", notes: []notification.Notification{fail}},
		{name: "oracle_upload_completed", notes: []notification.Notification{done}},
		{name: "notification", notes: []notification.Notification{other}},
		{name: "digest", notes: []notification.Notification{fail, done, other}, more: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := mail.Render(tt.notes, tt.more)
			if err != nil {
				t.Fatal(err)
			}
			for ext, got := range map[string]string{"txt": "Subject: " + msg.Subject + "\n\n" + msg.Text, "html": msg.HTML} {
				path := filepath.Join("testdata", tt.name+"."+ext+".golden")
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("%s:\n%s\nwant:\n%s", path, got, want)
				}
			}
		})
	}
}

func TestRenderNothing(t *testing.T) {
	if _, err := mail.Render(nil, false); err == nil {
		t.Fatal("Render of no notifications: no error")
	}
}
