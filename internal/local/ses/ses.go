// Package ses is the local stack's e-mail service: the part of the Amazon
// SES API v2 that the functions call (SendEmail, POST
// /v2/email/outbound-emails), answered by recording each e-mail instead of
// sending it, so that the real SDK client works against it unchanged.
// Server also lists the e-mails (GET /dev/mail) and makes SES's event
// publishing's bounce or complaint for an address (POST /dev/mail/bounce),
// handed to Options.Events as SES would publish it to the events topic.
package ses

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Mail is one e-mail the functions sent.
type Mail struct {
	MessageID        string              `json:"message_id"`
	At               time.Time           `json:"at"`
	From             string              `json:"from"`
	To               []string            `json:"to"`
	Subject          string              `json:"subject"`
	Text             string              `json:"text"`
	HTML             string              `json:"html"`
	ConfigurationSet string              `json:"configuration_set,omitempty"`
	Tags             map[string][]string `json:"tags,omitempty"`
}

// Options configure a Server.
type Options struct {
	// Events receives each SES event (the JSON of SES event publishing,
	// as an SNS raw delivery puts it on a queue); nil drops them.
	Events func(body string) error
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default discard
}

// Server records e-mails. It is safe for concurrent use.
type Server struct {
	opts  Options
	mux   *http.ServeMux
	mu    sync.Mutex
	mails []Mail
}

// New returns a Server.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /v2/email/outbound-emails", s.sendEmail)
	s.mux.HandleFunc("GET /dev/mail", s.list)
	s.mux.HandleFunc("POST /dev/mail/bounce", s.bounce)
	return s
}

// Routes are the patterns Server serves, for a caller's mux.
var Routes = []string{"POST /v2/email/outbound-emails", "GET /dev/mail", "POST /dev/mail/bounce"}

// ServeHTTP serves Routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Mails returns the e-mails recorded so far, oldest first.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mails)
}

// sendEmailInput is SendEmail's request body (the fields the functions set).
type sendEmailInput struct {
	FromEmailAddress string
	Destination      struct{ ToAddresses, CcAddresses, BccAddresses []string }
	Content          struct {
		Simple *struct {
			Subject struct{ Data string }
			Body    struct {
				Text *struct{ Data string }
				Html *struct{ Data string }
			}
		}
	}
	ConfigurationSetName string
	EmailTags            []struct{ Name, Value string }
}

func (s *Server) sendEmail(w http.ResponseWriter, r *http.Request) {
	var in sendEmailInput
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 10<<20)).Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestException", "request body is not a SendEmail request")
		return
	}
	to := slices.Concat(in.Destination.ToAddresses, in.Destination.CcAddresses, in.Destination.BccAddresses)
	if in.FromEmailAddress == "" || len(to) == 0 || in.Content.Simple == nil {
		apiError(w, http.StatusBadRequest, "BadRequestException", "FromEmailAddress, a destination and Content.Simple are required")
		return
	}
	m := Mail{MessageID: strings.ToLower(ulid.Make().String()), At: s.opts.Now().UTC(), From: in.FromEmailAddress, To: to,
		Subject: in.Content.Simple.Subject.Data, ConfigurationSet: in.ConfigurationSetName}
	if b := in.Content.Simple.Body.Text; b != nil {
		m.Text = b.Data
	}
	if b := in.Content.Simple.Body.Html; b != nil {
		m.HTML = b.Data
	}
	for _, t := range in.EmailTags {
		if m.Tags == nil {
			m.Tags = map[string][]string{}
		}
		m.Tags[t.Name] = append(m.Tags[t.Name], t.Value)
	}
	s.mu.Lock()
	s.mails = append(s.mails, m)
	s.mu.Unlock()
	s.opts.Logger.Info("email recorded", "message_id", m.MessageID, "subject", m.Subject)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": m.MessageID})
}

func (s *Server) list(w http.ResponseWriter, _ *http.Request) {
	mails := s.Mails()
	if mails == nil {
		mails = []Mail{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(mails)
}

// bounce makes the event of ?address=: a permanent bounce, or with
// ?type=complaint a complaint, of the last e-mail sent to it.
func (s *Server) bounce(w http.ResponseWriter, r *http.Request) {
	address := r.URL.Query().Get("address")
	kind := cmp.Or(r.URL.Query().Get("type"), "bounce")
	if kind != "bounce" && kind != "complaint" {
		devError(w, http.StatusBadRequest, "type must be bounce or complaint")
		return
	}
	var last *Mail
	for _, m := range s.Mails() {
		if slices.Contains(m.To, address) {
			m := m
			last = &m
		}
	}
	if last == nil {
		devError(w, http.StatusNotFound, fmt.Sprintf("no e-mail was sent to %q", address))
		return
	}
	if s.opts.Events == nil {
		devError(w, http.StatusServiceUnavailable, "no events destination")
		return
	}
	body, err := json.Marshal(event(*last, address, kind, s.opts.Now().UTC()))
	if err == nil {
		err = s.opts.Events(string(body))
	}
	if err != nil {
		devError(w, http.StatusInternalServerError, "publish the event: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// event is SES event publishing's record of a bounce or complaint of m.
func event(m Mail, address, kind string, at time.Time) map[string]any {
	recipients := []map[string]string{{"emailAddress": address}}
	ev := map[string]any{"mail": map[string]any{"timestamp": m.At.Format(time.RFC3339Nano), "source": m.From,
		"messageId": m.MessageID, "destination": m.To, "tags": m.Tags}}
	if kind == "complaint" {
		ev["eventType"] = "Complaint"
		ev["complaint"] = map[string]any{"complainedRecipients": recipients, "complaintFeedbackType": "abuse",
			"timestamp": at.Format(time.RFC3339Nano)}
		return ev
	}
	ev["eventType"] = "Bounce"
	ev["bounce"] = map[string]any{"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": recipients,
		"timestamp": at.Format(time.RFC3339Nano)}
	return ev
}

func apiError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

func devError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": message})
}
