package lambdatest_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

// The MailFunction takes the fixture's two records: user 123's due message,
// which e-mails the failed transfer still unread through SES v2 (moto_server
// accepts it only from a verified identity, so a send that did not happen
// would be a batch failure) and moves the mail row's cursor past it; then
// SES's permanent bounce of that address, which turns e-mail off.
func TestMailFunction(t *testing.T) {
	sb := newSandbox(t, "NotificationsTable")
	sb.queue(t, "MAIL_QUEUE_URL")
	ses := sesv2.NewFromConfig(awstest.Config(t))
	if _, err := ses.CreateEmailIdentity(sb.ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	table := sb.tables["NotificationsTable"]
	prefs := preference.NewDynamoStore(sb.db, table)
	if _, err := prefs.SetProfile(sb.ctx, "123", preference.Profile{Email: "ann@example.com"}); err != nil {
		t.Fatal(err)
	}
	hist := history.NewDynamoStore(sb.db, table, time.Now)
	note := notification.Notification{ID: "01KB0000000000000000000000", Type: notification.TypeUploadFailed,
		Timestamp: time.Now().UTC(), Message: "Budget import failed", TransactionID: "602", Error: "ESS job 14558 ended in ERROR"}
	notification.Classify(&note)
	if _, err := hist.Add(sb.ctx, history.Item{UserID: "123", Notification: note, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	fn := sb.start(t, "mail", map[string]string{"EMAIL_SENDER": "notifications@example.com",
		"PREFERENCE_DEFAULTS": `{"*":{"email":true}}`})

	if failed := batchFailures(t, fn.Invoke(t, fixture(t, "mail-sqs.json"))); len(failed) != 0 {
		t.Fatalf("batch item failures %v, want none", failed)
	}
	row, err := mail.NewDynamoLedger(sb.db, table).Get(sb.ctx, "123")
	if err != nil {
		t.Fatal(err)
	}
	if row.Cursor != 1 || !row.DueAt.IsZero() {
		t.Errorf("mail row %+v, want the cursor at the mailed notification (1) and nothing due", row)
	}
	p, err := prefs.Get(sb.ctx, "123")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Profile.Bounced {
		t.Errorf("profile %+v after a permanent bounce, want bounced", p.Profile)
	}
}
