package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/local/ses"
)

// devSendNotification sends body to the notification queue through /dev/send.
func (s *localStack) devSendNotification(tb testing.TB, body string) {
	tb.Helper()
	payload, _ := json.Marshal(map[string]string{"queue": "notifications", "body": body})
	resp, err := http.Post(s.URL+"/dev/send", "application/json", strings.NewReader(string(payload)))
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("/dev/send %s: status %d", body, resp.StatusCode)
	}
}

// mailsTo returns the e-mails /dev/mail lists for address.
func (s *localStack) mailsTo(tb testing.TB, address string) []ses.Mail {
	tb.Helper()
	resp, err := http.Get(s.URL + "/dev/mail")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var all, out []ses.Mail
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		tb.Fatal(err)
	}
	for _, m := range all {
		if len(m.To) == 1 && m.To[0] == address {
			out = append(out, m)
		}
	}
	return out
}

// awaitMails waits until address has n e-mails and returns them, failing
// after a generous guard time.
func (s *localStack) awaitMails(tb testing.TB, address string, n int) []ses.Mail {
	tb.Helper()
	for i := 0; ; i++ {
		if got := s.mailsTo(tb, address); len(got) >= n {
			return got
		}
		if i > 600 {
			tb.Fatalf("%s has %d e-mails after a minute; want %d\n%s", address, len(s.mailsTo(tb, address)), n, s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// profile and failed are notification queue messages.
func profile(user, address string) string {
	return `{"type":"user_profile","user_id":"` + user + `","email":"` + address + `"}`
}

func failed(user, tx string) string {
	return `{"user_id":"` + user + `","type":"oracle_upload_failed","message":"Budget import failed","transaction_id":"` + tx +
		`","error":"ESS job 14558 ended in ERROR"}`
}

func completed(user, tx string) string {
	return `{"user_id":"` + user + `","type":"oracle_upload_completed","message":"Budget transfer imported","transaction_id":"` + tx +
		`","success":true}`
}

// TestEmailEndToEnd runs e-mail through the local stack, whose functions
// send with the real SES client to the stack's /v2/email endpoint: a user
// with a profile and no tab gets a failed transfer's e-mail; a burst gives
// one digest; a tab that reads in time gets none; a bounce turns e-mail off.
// Each "nothing more" is checked by a later e-mail (an e-mail that would
// have come would have come first), never by waiting.
func TestEmailEndToEnd(t *testing.T) {
	s := startStack(t, `PREFERENCE_DEFAULTS={"*":{"email":true}}`, "EMAIL_WINDOW=1s", "EMAIL_UNREAD_DELAY=3s")

	t.Run("no tab: the failed transfer's e-mail", func(t *testing.T) {
		s.devSendNotification(t, profile("mail-ann", "ann@example.com"))
		s.devSendNotification(t, failed("mail-ann", "602"))
		m := s.awaitMails(t, "ann@example.com", 1)[0]
		if m.Subject != "Failed: Budget import failed (transaction 602)" || !strings.Contains(m.Text, "ESS job 14558 ended in ERROR") ||
			!strings.Contains(m.HTML, "<strong>failed</strong>") || m.From != "notifications@example.com" || len(m.Tags["user_id"]) != 1 {
			t.Fatalf("e-mail %+v; want the failed transfer's, from the sender, tagged with the user", m)
		}
	})

	t.Run("a burst: one digest", func(t *testing.T) {
		s.devSendNotification(t, profile("mail-bob", "bob@example.com"))
		for _, tx := range []string{"701", "702", "703"} {
			s.devSendNotification(t, completed("mail-bob", tx))
		}
		if m := s.awaitMails(t, "bob@example.com", 1)[0]; m.Subject != "3 unread notifications" {
			t.Fatalf("first e-mail %q; want the digest of 3", m.Subject)
		}
		s.devSendNotification(t, failed("mail-bob", "704"))
		mails := s.awaitMails(t, "bob@example.com", 2)
		if len(mails) != 2 || !strings.Contains(mails[1].Subject, "704") {
			t.Fatalf("e-mails %v; want the digest, then 704's alone", subjects(mails))
		}
	})

	t.Run("a tab that reads in time: none", func(t *testing.T) {
		s.devSendNotification(t, profile("mail-cat", "cat@example.com"))
		tab := s.dial(t, "mail-cat")
		if m := tab.next(); m["type"] != "connection_established" {
			t.Fatalf("first message %v", m)
		}
		s.devSendNotification(t, completed("mail-cat", "801"))
		m := tab.next()
		if m["transaction_id"] != "801" {
			t.Fatalf("tab got %v; want 801's notification", m)
		}
		tab.send(map[string]any{"type": "mark_read", "ids": []any{m["id"]}})
		if r := tab.next(); r["type"] != "read_state" || r["unread_count"] != float64(0) {
			t.Fatalf("mark_read answer %v; want read_state, 0 unread", r)
		}
		// Unread by the tab: mailed after the unread delay, alone.
		s.devSendNotification(t, failed("mail-cat", "802"))
		if m := tab.next(); m["transaction_id"] != "802" {
			t.Fatalf("tab got %v; want 802's notification", m)
		}
		mails := s.awaitMails(t, "cat@example.com", 1)
		if !strings.Contains(mails[0].Subject, "802") || strings.Contains(mails[0].Text, "801") {
			t.Fatalf("first e-mail %q; want 802's alone (801 was read in time)", mails[0].Subject)
		}
	})

	t.Run("a bounce turns e-mail off", func(t *testing.T) {
		resp, err := http.Post(s.URL+"/dev/mail/bounce?address=ann@example.com", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("bounce: status %d", resp.StatusCode)
		}
		s.waitOutput(t, `"msg":"email suppressed"`)
		s.devSendNotification(t, failed("mail-ann", "603"))
		// Ann's next e-mail would come in the same window as Bob's.
		s.devSendNotification(t, failed("mail-bob", "705"))
		s.awaitMails(t, "bob@example.com", 3)
		if mails := s.mailsTo(t, "ann@example.com"); len(mails) != 1 {
			t.Fatalf("ann has e-mails %v after her address bounced; want only the first", subjects(mails))
		}
		// A new profile (the mailbox fixed) turns it on again.
		s.devSendNotification(t, profile("mail-ann", "ann@example.com"))
		s.devSendNotification(t, failed("mail-ann", "604"))
		if mails := s.awaitMails(t, "ann@example.com", 2); !strings.Contains(mails[1].Text, "604") {
			t.Fatalf("ann's e-mails %v; want one with 604 after the new profile", subjects(mails))
		}
	})
}

func subjects(mails []ses.Mail) []string {
	var out []string
	for _, m := range mails {
		out = append(out, m.Subject)
	}
	return out
}
