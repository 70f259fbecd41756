package mail

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/preference"
)

// Defaults of SchedulerConfig.
const (
	DefaultWindow      = 60 * time.Second // EMAIL_WINDOW
	DefaultUnreadDelay = 10 * time.Minute // EMAIL_UNREAD_DELAY
	// MaxDelay is the longest delay SQS gives a message (DelaySeconds).
	MaxDelay = 15 * time.Minute
)

// staleAfter is how long past its due time a pending message is taken for
// lost: more than the longest delay, plus the retries the queue gives a
// failing message before its dead-letter queue.
const staleAfter = MaxDelay + time.Hour

// sqsAPI is the part of *sqs.Client the Scheduler uses.
type sqsAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// snsAPI is the part of *sns.Client that texts critical notifications.
type snsAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var (
	_ sqsAPI = (*sqs.Client)(nil)
	// *sns.Client is an snsAPI; no assertion here, which would link every SNS operation into each bootstrap.
)

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	QueueURL string // the mail queue (template.yaml MailQueue)
	// Window is the delay of the mail of a notification stored while the
	// user had no live connection: what else comes within it joins one
	// digest. Default DefaultWindow; at most MaxDelay.
	Window time.Duration
	// UnreadDelay is the delay when a connection was live: the mail goes
	// only if the notification is still unread then. Default
	// DefaultUnreadDelay; at most MaxDelay.
	UnreadDelay time.Duration
	// SMS texts critical notifications to the profile's phone through it
	// (SNS Publish); nil (SMS_ENABLED false, the default) texts nothing.
	SMS snsAPI
}

// Due is the body of a mail queue message: the user whose unread
// notifications are to be mailed.
type Due struct {
	UserID string `json:"user_id"`
}

// Scheduler plans the e-mail of stored notifications: it keeps at most one
// mail message pending per user, delayed, so that nothing sleeps. It is
// safe for concurrent use.
type Scheduler struct {
	ledger Ledger
	sqs    sqsAPI
	cfg    SchedulerConfig
	now    func() time.Time
	log    *slog.Logger
	rec    *metrics.Recorder
}

// NewScheduler returns a Scheduler that keeps its rows in ledger and sends
// mail messages through client. now, log and rec may be nil.
func NewScheduler(ledger Ledger, client sqsAPI, cfg SchedulerConfig, now func() time.Time, log *slog.Logger, rec *metrics.Recorder) (*Scheduler, error) {
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.UnreadDelay == 0 {
		cfg.UnreadDelay = DefaultUnreadDelay
	}
	for _, d := range []time.Duration{cfg.Window, cfg.UnreadDelay} {
		if d < 0 || d > MaxDelay {
			return nil, fmt.Errorf("mail: delay %s: want between 0 and %s", d, MaxDelay)
		}
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{ledger: ledger, sqs: client, cfg: cfg, now: now, log: log, rec: rec}, nil
}

// Stored is told of each notification stored for a user with preferences
// p: email says that its category takes e-mail to a deliverable address
// (preference.Defaults.Decide), live that a connection of the user was
// live when it was stored. When email is set it arms the user's mail (one
// UpdateItem) and, if no message was pending, sends one (one SendMessage)
// delayed by the window (not live) or the unread delay (live). A critical
// notification is also texted when SMS is on and the profile has a phone.
// An error leaves nothing half-done that a retry would not finish.
func (s *Scheduler) Stored(ctx context.Context, p preference.Preferences, note notification.Notification, email, live bool) error {
	if s.cfg.SMS != nil && note.Critical && p.Profile.Phone != "" {
		if err := s.text(ctx, p.Profile.Phone, note); err != nil {
			return err
		}
	}
	if !email {
		return nil
	}
	delay := s.cfg.Window
	if live {
		delay = s.cfg.UnreadDelay
	}
	now := s.now()
	due := now.Add(delay)
	armed, err := s.ledger.Arm(ctx, p.UserID, due, now.Add(-staleAfter))
	if err != nil || !armed {
		return err
	}
	if err := s.send(ctx, p.UserID, delay); err != nil {
		if derr := s.ledger.Disarm(ctx, p.UserID, due); derr != nil {
			lambdaenv.LoggerFrom(ctx, s.log).Error("mail disarm failed", "user_id", p.UserID, "error", derr)
		}
		return err
	}
	return nil
}

// send sends the user's mail message, delayed by delay.
func (s *Scheduler) send(ctx context.Context, userID string, delay time.Duration) error {
	body, err := json.Marshal(Due{UserID: userID})
	if err != nil {
		return fmt.Errorf("mail: schedule for %.64q: %w", userID, err)
	}
	if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(s.cfg.QueueURL),
		MessageBody: aws.String(string(body)), DelaySeconds: int32(delay / time.Second)}); err != nil {
		return fmt.Errorf("mail: schedule for %.64q: %w", userID, err)
	}
	lambdaenv.LoggerFrom(ctx, s.log).Debug("mail scheduled", "user_id", userID, "delay_s", int(delay/time.Second))
	return nil
}

// text publishes a critical notification's subject to phone.
func (s *Scheduler) text(ctx context.Context, phone string, note notification.Notification) error {
	msg, err := Render([]notification.Notification{note}, false)
	if err != nil {
		return err
	}
	if _, err := s.cfg.SMS.Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String(phone), Message: aws.String(msg.Subject)}); err != nil {
		return fmt.Errorf("mail: text %s: %w", note.ID, err)
	}
	s.rec.Count(metrics.SmsSent, 1)
	return nil
}
