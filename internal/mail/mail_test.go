package mail_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/preference"
)

type fakeSQS struct {
	mu   sync.Mutex
	sent []*sqs.SendMessageInput
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{}, nil
}

// take returns the messages sent since the last take.
func (f *fakeSQS) take() []*sqs.SendMessageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sent
	f.sent = nil
	return out
}

type fakeSES struct {
	mu   sync.Mutex
	sent []*sesv2.SendEmailInput
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, in)
	return &sesv2.SendEmailOutput{MessageId: aws.String("m")}, nil
}

type fakeSNS struct{ published []*sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.published = append(f.published, in)
	return &sns.PublishOutput{}, nil
}

type acceptAll struct{}

func (acceptAll) PostToConnection(context.Context, *apigatewaymanagementapi.PostToConnectionInput, ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
	return &apigatewaymanagementapi.PostToConnectionOutput{}, nil
}

// world is a notifier with the e-mail scheduler and MailFunction's handler
// on memory stores and fakes.
type world struct {
	n      *notifier.Notifier
	conns  *connection.MemoryStore
	hist   *history.MemoryStore
	prefs  *preference.MemoryStore
	ledger *mail.MemoryLedger
	queue  *fakeSQS
	ses    *fakeSES
	sms    *fakeSNS
	h      *mail.Handler
}

var start = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func newWorld(t *testing.T, sms bool) *world {
	t.Helper()
	now := func() time.Time { return start }
	defaults, err := preference.ParseDefaults(`{"*":{"email":true}}`)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{conns: connection.NewMemoryStore(now), hist: history.NewMemoryStore(now), prefs: preference.NewMemoryStore(),
		ledger: mail.NewMemoryLedger(), queue: &fakeSQS{}, ses: &fakeSES{}, sms: &fakeSNS{}}
	cfg := mail.SchedulerConfig{QueueURL: "https://sqs.local/mail"}
	if sms {
		cfg.SMS = w.sms
	}
	sched, err := mail.NewScheduler(w.ledger, w.queue, cfg, now, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.n = notifier.New(w.conns, w.hist, acceptAll{}, notifier.Options{Now: now, Preferences: w.prefs, Defaults: defaults, Outbox: sched})
	w.h = mail.NewHandler(w.ledger, w.hist, w.prefs, w.ses, sched,
		mail.HandlerConfig{Sender: "notifications@example.com", ConfigurationSet: "fbdi", Defaults: defaults}, nil, nil)
	if _, err := w.prefs.SetProfile(context.Background(), "u1", preference.Profile{Email: "ann@example.com", Phone: "+15555550100"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) notify(t *testing.T, notes ...notification.Notification) {
	t.Helper()
	for _, n := range notes {
		if _, err := w.n.Notify(context.Background(), "u1", n); err != nil {
			t.Fatal(err)
		}
	}
}

// deliver hands the queue's messages to the handler, as the delay ends.
func (w *world) deliver(t *testing.T, msgs []*sqs.SendMessageInput) {
	t.Helper()
	var ev events.SQSEvent
	for i, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: string(rune('a' + i)), Body: aws.ToString(m.MessageBody)})
	}
	resp, err := w.h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle: %v, failures %v", err, resp.BatchItemFailures)
	}
}

func failed(id, tx string) notification.Notification {
	return notification.Notification{ID: id, Type: notification.TypeUploadFailed, Message: "Budget import failed",
		TransactionID: tx, Error: "ESS job 14558 ended in ERROR", Kind: "budget_transfer", Category: notification.CategoryFBDI}
}

func completed(id, tx string) notification.Notification {
	return notification.Notification{ID: id, Type: notification.TypeUploadCompleted, Message: "Budget transfer imported",
		TransactionID: tx, Success: true, Category: notification.CategoryFBDI}
}

func TestScheduling(t *testing.T) {
	tests := []struct {
		name        string
		tab         bool // a connection of the user is live
		read        bool // the user reads everything before the message is due
		notes       []notification.Notification
		wantDelay   int32    // of the one mail message
		wantSubject []string // of each e-mail sent
	}{
		{name: "no tab: one e-mail after the window", notes: []notification.Notification{failed("01KB0000000000000000000001", "602")},
			wantDelay: 60, wantSubject: []string{"Failed: Budget import failed (transaction 602)"}},
		{name: "a tab that reads it in time: none", tab: true, read: true,
			notes: []notification.Notification{failed("01KB0000000000000000000001", "602")}, wantDelay: 600},
		{name: "a tab that does not read it: one e-mail after the unread delay", tab: true,
			notes: []notification.Notification{completed("01KB0000000000000000000001", "602")}, wantDelay: 600,
			wantSubject: []string{"Completed: Budget transfer imported (transaction 602)"}},
		{name: "a burst: one digest", notes: []notification.Notification{
			failed("01KB0000000000000000000001", "601"), completed("01KB0000000000000000000002", "602"),
			completed("01KB0000000000000000000003", "603")},
			wantDelay: 60, wantSubject: []string{"3 unread notifications, 1 failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, false)
			if tt.tab {
				if err := w.conns.Put(context.Background(), connection.Connection{ID: "c1", UserID: "u1",
					ConnectedAt: start.Add(-time.Hour), ExpiresAt: start.Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			w.notify(t, tt.notes...)
			msgs := w.queue.take()
			if len(msgs) != 1 || msgs[0].DelaySeconds != tt.wantDelay {
				t.Fatalf("mail messages %d (delay %v); want 1 delayed %d s", len(msgs), delays(msgs), tt.wantDelay)
			}
			if tt.read {
				if err := w.hist.MarkAllRead(context.Background(), "u1"); err != nil {
					t.Fatal(err)
				}
			}
			w.deliver(t, msgs)
			var subjects []string
			for _, in := range w.ses.sent {
				subjects = append(subjects, aws.ToString(in.Content.Simple.Subject.Data))
				if got := in.Destination.ToAddresses; len(got) != 1 || got[0] != "ann@example.com" {
					t.Errorf("sent to %v; want the profile's address", got)
				}
				if tag := in.EmailTags; len(tag) != 1 || aws.ToString(tag[0].Value) != base64.RawURLEncoding.EncodeToString([]byte("u1")) {
					t.Errorf("tags %v; want user_id of u1", tag)
				}
			}
			if strings.Join(subjects, "|") != strings.Join(tt.wantSubject, "|") {
				t.Fatalf("e-mails %q; want %q", subjects, tt.wantSubject)
			}
			if got := w.queue.take(); len(got) != 0 {
				t.Fatalf("handler sent %d more mail messages; want none", len(got))
			}
			// Done: the next notification arms a new message, and the
			// e-mail it brings holds only what came after.
			w.notify(t, completed("01KB0000000000000000000009", "609"))
			msgs = w.queue.take()
			if len(msgs) != 1 {
				t.Fatalf("after the e-mail, a notification sent %d mail messages; want 1", len(msgs))
			}
			w.ses.sent = nil
			w.deliver(t, msgs)
			if len(w.ses.sent) != 1 || !strings.Contains(aws.ToString(w.ses.sent[0].Content.Simple.Subject.Data), "609") {
				t.Fatalf("second e-mail: %d sent; want one of transaction 609 alone", len(w.ses.sent))
			}
		})
	}
}

func delays(msgs []*sqs.SendMessageInput) []int32 {
	var out []int32
	for _, m := range msgs {
		out = append(out, m.DelaySeconds)
	}
	return out
}

// TestNotificationDuringHandling: a notification stored while the handler
// runs finds the message pending and sends none; the handler, seeing it,
// sends the next message itself.
func TestNotificationDuringHandling(t *testing.T) {
	w := newWorld(t, false)
	w.notify(t, failed("01KB0000000000000000000001", "601"))
	msgs := w.queue.take()
	row, err := w.ledger.Get(context.Background(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	// As if stored between the handler's read of the ledger and its Done.
	racing := &racingHistory{MemoryStore: w.hist, during: func() { w.notify(t, completed("01KB0000000000000000000002", "602")) }}
	h := mail.NewHandler(w.ledger, racing, w.prefs, w.ses, mustScheduler(t, w), mail.HandlerConfig{Sender: "n@example.com",
		Defaults: mustDefaults(t)}, nil, nil)
	if _, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "a", Body: aws.ToString(msgs[0].MessageBody)}}}); err != nil {
		t.Fatal(err)
	}
	if row.DueAt.IsZero() {
		t.Fatal("no DueAt while a message is pending")
	}
	next := w.queue.take()
	if len(next) != 1 {
		t.Fatalf("mail messages after a notification during handling: %d; want 1 (sent by the handler)", len(next))
	}
	w.ses.sent = nil
	w.deliver(t, next)
	if len(w.ses.sent) != 1 || !strings.Contains(aws.ToString(w.ses.sent[0].Content.Simple.Subject.Data), "602") {
		t.Fatalf("e-mail of the notification during handling: %d sent; want transaction 602's", len(w.ses.sent))
	}
}

type racingHistory struct {
	*history.MemoryStore
	during func()
	once   sync.Once
}

func (r *racingHistory) After(ctx context.Context, userID string, after history.Position, f history.Filter, limit int) (history.Page, error) {
	p, err := r.MemoryStore.After(ctx, userID, after, f, limit)
	r.once.Do(r.during)
	return p, err
}

func mustDefaults(t *testing.T) preference.Defaults {
	d, err := preference.ParseDefaults(`{"*":{"email":true}}`)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustScheduler(t *testing.T, w *world) *mail.Scheduler {
	s, err := mail.NewScheduler(w.ledger, w.queue, mail.SchedulerConfig{QueueURL: "q"}, func() time.Time { return start }, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sesEvent is an SES event publishing record of kind for address, tagged
// with userID.
func sesEvent(t *testing.T, kind, bounceType, address, userID string) string {
	ev := map[string]any{"eventType": kind, "mail": map[string]any{"tags": map[string][]string{
		"user_id": {base64.RawURLEncoding.EncodeToString([]byte(userID))}, "ses:configuration-set": {"fbdi"}}}}
	recipients := []map[string]string{{"emailAddress": address}}
	switch kind {
	case "Bounce":
		ev["bounce"] = map[string]any{"bounceType": bounceType, "bounceSubType": "General", "bouncedRecipients": recipients}
	case "Complaint":
		ev["complaint"] = map[string]any{"complaintFeedbackType": "abuse", "complainedRecipients": recipients}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func snsEnvelope(t *testing.T, message string) string {
	b, err := json.Marshal(map[string]string{"Type": "Notification", "TopicArn": "arn:aws:sns:eu-west-1:1:mail-events", "Message": message})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBounces(t *testing.T) {
	tests := []struct {
		name        string
		body        func(t *testing.T) string
		wantBounced bool
	}{
		{name: "permanent bounce", wantBounced: true,
			body: func(t *testing.T) string { return sesEvent(t, "Bounce", "Permanent", "ann@example.com", "u1") }},
		{name: "permanent bounce in an SNS envelope", wantBounced: true,
			body: func(t *testing.T) string {
				return snsEnvelope(t, sesEvent(t, "Bounce", "Permanent", "ann@example.com", "u1"))
			}},
		{name: "complaint", wantBounced: true,
			body: func(t *testing.T) string { return sesEvent(t, "Complaint", "", "ann@example.com", "u1") }},
		{name: "transient bounce",
			body: func(t *testing.T) string { return sesEvent(t, "Bounce", "Transient", "ann@example.com", "u1") }},
		{name: "bounce of the address before the profile's",
			body: func(t *testing.T) string { return sesEvent(t, "Bounce", "Permanent", "old@example.com", "u1") }},
		{name: "delivery",
			body: func(t *testing.T) string { return sesEvent(t, "Delivery", "", "ann@example.com", "u1") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, false)
			resp, err := w.h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "a", Body: tt.body(t)}}})
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle: %v %v", err, resp.BatchItemFailures)
			}
			p, err := w.prefs.Get(context.Background(), "u1")
			if err != nil {
				t.Fatal(err)
			}
			if p.Profile.Bounced != tt.wantBounced {
				t.Fatalf("bounced = %v; want %v", p.Profile.Bounced, tt.wantBounced)
			}
			// E-mail is off for a bounced address: nothing is scheduled.
			w.notify(t, failed("01KB0000000000000000000001", "601"))
			if got, want := len(w.queue.take()), map[bool]int{true: 0, false: 1}[tt.wantBounced]; got != want {
				t.Fatalf("mail messages after the event: %d; want %d", got, want)
			}
		})
	}
}

// TestBouncedBeforeDue: a bounce between scheduling and the message sends nothing.
func TestBouncedBeforeDue(t *testing.T) {
	w := newWorld(t, false)
	w.notify(t, failed("01KB0000000000000000000001", "601"))
	msgs := w.queue.take()
	if _, err := w.prefs.MarkBounced(context.Background(), "u1", "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	w.deliver(t, msgs)
	if len(w.ses.sent) != 0 {
		t.Fatalf("sent %d e-mails to a bounced address", len(w.ses.sent))
	}
}

func TestSMS(t *testing.T) {
	tests := []struct {
		name    string
		enabled bool
		note    notification.Notification
		want    int // texts
	}{
		{name: "critical, enabled", enabled: true, note: failed("01KB0000000000000000000001", "601"), want: 1},
		{name: "not critical, enabled", enabled: true, note: completed("01KB0000000000000000000001", "601")},
		{name: "critical, off by default", note: failed("01KB0000000000000000000001", "601")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.enabled)
			w.notify(t, tt.note)
			if len(w.sms.published) != tt.want {
				t.Fatalf("texts %d; want %d", len(w.sms.published), tt.want)
			}
			if tt.want > 0 && aws.ToString(w.sms.published[0].PhoneNumber) != "+15555550100" {
				t.Fatalf("texted %s; want the profile's phone", aws.ToString(w.sms.published[0].PhoneNumber))
			}
		})
	}
}
