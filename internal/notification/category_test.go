package notification_test

import (
	"strings"
	"testing"

	"github.com/finance/fbdi-notify/internal/notification"
)

func TestParseCategory(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{name: "empty is general", in: "", want: notification.CategoryGeneral, ok: true},
		{name: "fbdi", in: "fbdi", want: "fbdi", ok: true},
		{name: "with punctuation", in: "hr.payroll-2_x", want: "hr.payroll-2_x", ok: true},
		{name: "40 bytes", in: strings.Repeat("a", 40), want: strings.Repeat("a", 40), ok: true},
		{name: "41 bytes", in: strings.Repeat("a", 41)},
		{name: "upper case", in: "FBDI"},
		{name: "space", in: "month end"},
		{name: "leading dash", in: "-x"},
		{name: "unicode", in: "caté"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := notification.ParseCategory(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseCategory(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestUnreadRule(t *testing.T) {
	def := notification.NewUnreadRule()
	progress := notification.UploadProgress("602", "Upload to UCM", 2, 5, notification.StatusCompleted, "ok")
	critical := progress
	critical.Critical = true
	tests := []struct {
		name string
		rule notification.UnreadRule
		n    notification.Notification
		want bool
	}{
		{name: "generic counts", rule: def, n: notification.General("hi", nil), want: true},
		{name: "started counts", rule: def, n: notification.UploadStarted("602", "go"), want: true},
		{name: "completed counts", rule: def, n: notification.UploadCompleted("602", "done", ""), want: true},
		{name: "failed counts", rule: def, n: notification.UploadFailed("602", "no", "x"), want: true},
		{name: "progress does not", rule: def, n: progress, want: false},
		{name: "a critical one always does", rule: def, n: critical, want: true},
		{name: "zero rule is the default", rule: notification.UnreadRule{}, n: progress, want: false},
		{name: "configured: progress too", rule: notification.NewUnreadRule(notification.TypeUploadProgress), n: progress, want: true},
		{name: "configured: not generic", rule: notification.NewUnreadRule(notification.TypeUploadProgress), n: notification.General("hi", nil), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.Unread(tt.n); got != tt.want {
				t.Errorf("Unread(%s) = %v, want %v", tt.n.Type, got, tt.want)
			}
		})
	}
}

func TestParseUnreadRule(t *testing.T) {
	r, err := notification.ParseUnreadRule(" oracle_upload_failed , notification ")
	if err != nil || r.Unread(notification.UploadStarted("1", "")) || !r.Unread(notification.General("x", nil)) {
		t.Errorf("ParseUnreadRule: %v; want failed and generic only", err)
	}
	if _, err := notification.ParseUnreadRule("pong"); err == nil {
		t.Error("ParseUnreadRule(pong) accepted a type no user is sent")
	}
	if r, err := notification.ParseUnreadRule(""); err != nil || r.Unread(notification.UploadProgress("1", "s", 1, 5, "processing", "")) {
		t.Errorf("ParseUnreadRule(\"\") = %v; want the default", err)
	}
}

func TestClassify(t *testing.T) {
	n := notification.UploadFailed("602", "no", "x")
	notification.Classify(&n)
	if n.Category != notification.CategoryGeneral || !n.Critical {
		t.Errorf("failed upload classified %q critical %v; want general (none given) and critical", n.Category, n.Critical)
	}
	g := notification.General("hi", nil)
	g.Category = "hr"
	notification.Classify(&g)
	if g.Category != "hr" || g.Critical {
		t.Errorf("generic classified %q critical %v; want hr, not critical", g.Category, g.Critical)
	}
}
