package mail

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/preference"
)

// DefaultMaxDigest is the most notifications one digest lists.
const DefaultMaxDigest = 20

// TagUserID is the SES message tag that carries the recipient's user ID,
// base64url without padding (tag values allow letters, digits, "-" and
// "_" only), so that a bounce names the user without an index.
const TagUserID = "user_id"

// Reasons of EmailsSuppressed.
const (
	ReasonBounce    = "bounce"
	ReasonComplaint = "complaint"
)

// sesAPI is the part of *sesv2.Client that Handler uses.
type sesAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// historyAPI is the part of history.Store that Handler reads.
type historyAPI interface {
	After(ctx context.Context, userID string, after history.Position, f history.Filter, limit int) (history.Page, error)
}

// preferenceAPI is the part of preference.Store that Handler uses.
type preferenceAPI interface {
	Get(ctx context.Context, userID string) (preference.Preferences, error)
	MarkBounced(ctx context.Context, userID, address string) (bool, error)
}

var _ sesAPI = (*sesv2.Client)(nil)

// HandlerConfig configures a Handler.
type HandlerConfig struct {
	Sender           string              // From address (EMAIL_SENDER), an identity verified in SES
	ConfigurationSet string              // SES configuration set whose event destination reports bounces; "" none
	Defaults         preference.Defaults // PREFERENCE_DEFAULTS, as the notifier's
	MaxDigest        int                 // default DefaultMaxDigest
}

// Handler is MailFunction: it takes the mail queue's due messages (Due),
// sending the user one e-mail of what is still unread, and the SES events
// queue's bounces and complaints, turning e-mail off for the address. It is
// safe for concurrent use.
type Handler struct {
	ledger Ledger
	hist   historyAPI
	prefs  preferenceAPI
	ses    sesAPI
	sched  *Scheduler // sends the next due message when more came
	cfg    HandlerConfig
	log    *slog.Logger
	rec    *metrics.Recorder
}

// NewHandler returns a Handler. log and rec may be nil.
func NewHandler(ledger Ledger, hist historyAPI, prefs preferenceAPI, ses sesAPI, sched *Scheduler, cfg HandlerConfig, log *slog.Logger, rec *metrics.Recorder) *Handler {
	if cfg.MaxDigest <= 0 {
		cfg.MaxDigest = DefaultMaxDigest
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{ledger: ledger, hist: hist, prefs: prefs, ses: ses, sched: sched, cfg: cfg, log: log, rec: rec}
}

// body is any message of the two queues: a Due, an SES event (SES event
// publishing's eventType, or an identity notification's notificationType),
// or an SNS envelope of one (Type and Message) without raw delivery.
type body struct {
	UserID           string        `json:"user_id"`
	EventType        string        `json:"eventType"`
	NotificationType string        `json:"notificationType"`
	Type             string        `json:"Type"`
	Message          string        `json:"Message"`
	Bounce           *sesBounce    `json:"bounce"`
	Complaint        *sesComplaint `json:"complaint"`
	Mail             sesMail       `json:"mail"`
}

type sesRecipient struct {
	EmailAddress string `json:"emailAddress"`
}

type sesBounce struct {
	BounceType        string         `json:"bounceType"` // Permanent, Transient, Undetermined
	BounceSubType     string         `json:"bounceSubType"`
	BouncedRecipients []sesRecipient `json:"bouncedRecipients"`
}

type sesComplaint struct {
	ComplaintFeedbackType string         `json:"complaintFeedbackType"`
	ComplainedRecipients  []sesRecipient `json:"complainedRecipients"`
}

type sesMail struct {
	Tags map[string][]string `json:"tags"`
}

// Handle handles each record on its own and reports those that failed, to
// be received again (ReportBatchItemFailures). A malformed record is
// logged and dropped: receiving it again would not mend it.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := lambdaenv.LoggerFrom(ctx, h.log)
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, r := range ev.Records {
		if err := h.record(ctx, r.Body); err != nil {
			log.ErrorContext(ctx, "mail record failed", "message_id", r.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

func (h *Handler) record(ctx context.Context, raw string) error {
	log := lambdaenv.LoggerFrom(ctx, h.log)
	var b body
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		log.WarnContext(ctx, "mail record malformed", "error", err)
		return nil
	}
	if b.Type == "Notification" && b.Message != "" {
		return h.record(ctx, b.Message)
	}
	switch {
	case b.UserID != "":
		return h.due(ctx, b.UserID)
	case b.EventType != "" || b.NotificationType != "":
		return h.event(ctx, b)
	}
	log.WarnContext(ctx, "mail record malformed", "error", "neither a due message nor an SES event")
	return nil
}

// due mails the user's unread notifications stored after the ledger's
// cursor whose category takes e-mail now, up to MaxDigest, as one e-mail.
func (h *Handler) due(ctx context.Context, userID string) error {
	row, err := h.ledger.Get(ctx, userID)
	if err != nil {
		return err
	}
	prefs, err := h.prefs.Get(ctx, userID)
	if err != nil {
		return fmt.Errorf("mail: due for %.64q: %w", userID, err)
	}
	page, err := h.hist.After(ctx, userID, row.Cursor, history.Filter{UnreadOnly: true}, h.cfg.MaxDigest)
	if err != nil {
		return fmt.Errorf("mail: due for %.64q: %w", userID, err)
	}
	cursor := row.Cursor
	var notes []notification.Notification
	for _, it := range page.Items {
		cursor = max(cursor, it.Position)
		if h.cfg.Defaults.Decide(prefs, it.Notification).Email {
			notes = append(notes, it.Notification)
		}
	}
	if page.HasMore {
		cursor = max(cursor, page.Next) // the next round starts there
	}
	if len(notes) > 0 {
		if err := h.send(ctx, userID, prefs.Profile.Email, notes, page.HasMore); err != nil {
			return err
		}
	}
	stored := row.Stored
	if page.HasMore {
		stored = -1 // keep the message pending: another round takes the rest
	}
	cleared, err := h.ledger.Done(ctx, userID, cursor, stored)
	if err != nil {
		return err
	}
	if !cleared {
		return h.sched.send(ctx, userID, h.sched.cfg.Window)
	}
	return nil
}

// send renders notes and sends them to address in one SendEmail.
func (h *Handler) send(ctx context.Context, userID, address string, notes []notification.Notification, more bool) error {
	msg, err := Render(notes, more)
	if err != nil {
		return err
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(h.cfg.Sender),
		Destination:      &sestypes.Destination{ToAddresses: []string{address}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(msg.Subject), Charset: aws.String("UTF-8")},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String(msg.Text), Charset: aws.String("UTF-8")},
				Html: &sestypes.Content{Data: aws.String(msg.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	}
	if h.cfg.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(h.cfg.ConfigurationSet)
	}
	if tag := base64.RawURLEncoding.EncodeToString([]byte(userID)); len(tag) <= 256 {
		in.EmailTags = []sestypes.MessageTag{{Name: aws.String(TagUserID), Value: aws.String(tag)}}
	}
	if _, err := h.ses.SendEmail(ctx, in); err != nil {
		return fmt.Errorf("mail: send to user %.64q: %w", userID, err)
	}
	kind := "single"
	if len(notes) > 1 || more {
		kind = "digest"
	}
	h.rec.Count(metrics.EmailsSent, 1, metrics.Kind(kind))
	lambdaenv.LoggerFrom(ctx, h.log).InfoContext(ctx, "email sent", "user_id", userID, "kind", kind, "notifications", len(notes))
	return nil
}

// event turns e-mail off for the recipients of a permanent bounce or a
// complaint, if their profile still has that address.
func (h *Handler) event(ctx context.Context, b body) error {
	log := lambdaenv.LoggerFrom(ctx, h.log)
	kind := cmp.Or(b.EventType, b.NotificationType)
	var (
		reason     string
		recipients []sesRecipient
		attrs      []any
	)
	switch {
	case kind == "Bounce" && b.Bounce != nil && b.Bounce.BounceType == "Permanent":
		reason, recipients = ReasonBounce, b.Bounce.BouncedRecipients
		attrs = []any{"bounce_type", b.Bounce.BounceType, "bounce_sub_type", b.Bounce.BounceSubType}
	case kind == "Complaint" && b.Complaint != nil:
		reason, recipients = ReasonComplaint, b.Complaint.ComplainedRecipients
		attrs = []any{"feedback_type", b.Complaint.ComplaintFeedbackType}
	default:
		log.DebugContext(ctx, "ses event ignored", "event_type", kind)
		return nil
	}
	userID, err := tagUser(b.Mail.Tags)
	if err != nil {
		log.WarnContext(ctx, "email suppression without user", append(attrs, "reason", reason, "error", err)...)
		return nil
	}
	for _, r := range recipients {
		marked, err := h.prefs.MarkBounced(ctx, userID, r.EmailAddress)
		if errors.Is(err, preference.ErrInvalid) {
			log.WarnContext(ctx, "email suppression without address", append(attrs, "reason", reason, "user_id", userID)...)
			continue
		}
		if err != nil {
			return fmt.Errorf("mail: %s for %.64q: %w", reason, userID, err)
		}
		log.WarnContext(ctx, "email suppressed", append(attrs, "reason", reason, "user_id", userID,
			"address_domain", domain(r.EmailAddress), "profile_marked", marked)...)
		h.rec.Count(metrics.EmailsSuppressed, 1, metrics.Reason(reason))
	}
	return nil
}

// tagUser decodes the user ID of TagUserID.
func tagUser(tags map[string][]string) (string, error) {
	values := tags[TagUserID]
	if len(values) != 1 {
		return "", fmt.Errorf("mail: event has %d %s tags; want 1", len(values), TagUserID)
	}
	id, err := base64.RawURLEncoding.DecodeString(values[0])
	if err != nil || len(id) == 0 {
		return "", fmt.Errorf("mail: event tag %s is not a user id", TagUserID)
	}
	return string(id), nil
}

// domain is the part of address after "@", which the log shows instead of
// the address.
func domain(address string) string {
	_, d, _ := strings.Cut(address, "@")
	return d
}
