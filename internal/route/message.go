package route

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/oklog/ulid/v2"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
)

// Limits on what a client may send. Larger limits are clamped, other bad
// values give an invalid_request error.
const (
	MaxMessageSize         = 128 << 10 // bytes; API Gateway's own WebSocket message limit
	DefaultResumeLimit     = 100       // notifications replayed by resume without a limit
	MaxResumeLimit         = 500       // a larger resume limit is clamped to this
	DefaultHistoryLimit    = 50        // items returned by history without a limit
	MaxHistoryLimit        = 100       // a larger history limit is clamped to this
	MaxMarkReadIDs         = 100       // ids in one mark_read
	MaxTransactionIDLength = 128       // bytes of a status transaction_id

	// ResumeReserve is the time resume keeps before its invocation's
	// deadline: it stops posting once less remains, and replies has_more.
	ResumeReserve = 2 * time.Second
)

// Request types a client sends in the "type" field.
const (
	TypePing     = "ping"
	TypeResume   = "resume"
	TypeHistory  = "history"
	TypeMarkRead = "mark_read"
	TypeStatus   = "status"
	TypeArchive  = "archive"
)

// Reply types. Replies to status have the type the StatusFunc gives them
// (workflow_status).
const (
	TypePong           = "pong"
	TypeResumeComplete = "resume_complete"
	TypeReadState      = "read_state"
	TypeError          = "error"
	// TypeHistory is also the type of the reply to history.
)

// Codes of error replies: {"type":"error","code":...,"message":...}.
const (
	CodeInvalidJSON    = "invalid_json"      // the body is not a JSON object
	CodeUnknownType    = "unknown_type"      // "type" is missing, not a string or not supported
	CodeTooLarge       = "message_too_large" // the body exceeds MaxMessageSize
	CodeInvalidRequest = "invalid_request"   // a field has the wrong type or value
	CodeUnauthorized   = "unauthorized"      // the connection is not registered to a user
	CodeNotFound       = "not_found"         // status: no such transaction for this user
	CodeInternal       = "internal_error"    // a store or the management API failed; details are logged
)

// StatusFunc returns the reply to a status request: the state of the user's
// transaction, which marshals to a JSON object with "type":"workflow_status".
// found is false if the user has no transaction with that ID (another user's
// transaction is not found either).
type StatusFunc func(ctx context.Context, userID, transactionID string) (reply any, found bool, err error)

// MessageConfig holds what a Message needs.
type MessageConfig struct {
	Connections connection.Store // finds the user who holds a connection; required
	History     history.Store    // the users' notifications; required

	// Posters returns the Poster for a management API endpoint. It is called
	// once per distinct endpoint; the Poster is kept and reused. Required.
	Posters func(endpoint string) Poster
	// Endpoint is the management API endpoint (MANAGEMENT_ENDPOINT). When
	// empty, each event's https://{domainName}/{stage} is used.
	Endpoint string

	Status StatusFunc       // nil: every status request is not_found
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // the clock resume checks the deadline with; nil: time.Now

	// RateLimit is each connection's budget of client messages, kept on its
	// row in Connections (see Cost); zero: DefaultRateLimit.
	RateLimit connection.Limit

	// Metrics counts the messages refused for their connection's budget
	// (metrics.MessagesRateLimited). Nil: none. What resume posts, the Posters count.
	Metrics *metrics.Recorder

	// Preferences serve the preferences requests (preferences.go); with
	// no Store they answer unknown_type.
	Preferences Preferences
}

// Message handles the message routes. It is safe for concurrent use.
type Message struct {
	conns     connection.Store
	history   history.Store
	newPoster func(endpoint string) Poster
	endpoint  string
	status    StatusFunc
	log       *slog.Logger
	now       func() time.Time
	rate      connection.Limit
	metrics   *metrics.Recorder
	prefs     Preferences

	mu      sync.Mutex
	posters map[string]Poster // by endpoint
}

// NewMessage returns a Message built from cfg. It panics if a required field
// is missing, which is a wiring mistake.
func NewMessage(cfg MessageConfig) *Message {
	if cfg.Connections == nil || cfg.History == nil || cfg.Posters == nil {
		panic("socket: NewMessage needs Connections, History and Posters")
	}
	lookup := cfg.Status
	if lookup == nil {
		lookup = func(context.Context, string, string) (any, bool, error) { return nil, false, nil }
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	rate := cfg.RateLimit
	if rate == (connection.Limit{}) {
		rate = DefaultRateLimit
	}
	return &Message{conns: cfg.Connections, history: cfg.History, newPoster: cfg.Posters,
		endpoint: cfg.Endpoint, status: lookup, log: orDiscard(cfg.Logger), now: now, rate: rate,
		metrics: cfg.Metrics, prefs: cfg.Preferences, posters: map[string]Poster{}}
}

// Handle answers one client message. The reply is the response body (the
// routes have a two-way route response) and the status code is always 200, so
// the connection stays open whatever the client sent: bad input gives an
// error reply with one of the Code constants. A resume to a connection that
// has gone meanwhile gives an empty body. The error is always nil.
//
// Requests other than ping act for the user who holds the connection, found
// in the connection store: a client only ever reads or changes its own
// user's notifications.
//
// Every message first spends its cost from the connection's budget
// (MessageConfig.RateLimit); one over it gets a rate_limited error reply
// with retry_after, and nothing else is done.
func (h *Message) Handle(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	ctx, log := invocation(ctx, h.log, req)
	var (
		typ   string
		reply any
	)
	err := h.spend(ctx, log, req)
	if err == nil {
		typ, reply, err = h.dispatch(ctx, log, req)
	}

	var (
		bad     *replyError
		limited *rateLimited
	)
	switch {
	case err == nil:
		level := slog.LevelInfo
		if typ == TypePing {
			level = slog.LevelDebug // keep-alives would drown the rest
		}
		log.Log(ctx, level, "message handled", slog.String("type", typ))
	case errors.As(err, &bad):
		log.Info("message rejected", slog.String("type", typ), slog.String("code", bad.code))
		reply = bad.reply()
	case errors.As(err, &limited):
		log.Info("message rejected", slog.String("code", CodeRateLimited))
		h.metrics.Count(metrics.MessagesRateLimited, 1)
		reply = limited.reply()
	default:
		log.Error("message failed", slog.String("type", typ), slog.Any("error", err))
		reply = replyError{code: CodeInternal, message: "internal error"}.reply()
	}

	resp := events.APIGatewayProxyResponse{StatusCode: http.StatusOK}
	if reply != nil {
		body, err := json.Marshal(reply)
		if err != nil {
			log.Error("message reply not encodable", slog.String("type", typ), slog.Any("error", err))
			body, _ = json.Marshal(replyError{code: CodeInternal, message: "internal error"}.reply())
		}
		resp.Body = string(body)
	}
	return resp, nil
}

// dispatch parses the body and runs the request. It returns the request type
// if known (for logs), the reply (nil for none) and either a *replyError for
// the client or an internal error.
func (h *Message) dispatch(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest) (typ string, reply any, err error) {
	body, fields, err := parse(req)
	if err != nil {
		return "", nil, err
	}
	if err := json.Unmarshal(fields["type"], &typ); err != nil {
		return "", nil, &replyError{code: CodeUnknownType, message: "type must be a string naming a request"}
	}
	switch typ {
	case TypePing:
		return typ, pong{Type: TypePong, Timestamp: fields["timestamp"]}, nil
	case TypeResume:
		reply, err = h.resume(ctx, log, req, body)
	case TypeHistory:
		reply, err = h.listHistory(ctx, req, body)
	case TypeMarkRead:
		reply, err = h.markRead(ctx, req, body)
	case TypeStatus:
		reply, err = h.workflowStatus(ctx, req, body)
	case TypeArchive:
		reply, err = h.archive(ctx, req, body)
	case TypePreferences:
		reply, err = h.preferences(ctx, log, req, body)
	case TypeSetPreferences:
		reply, err = h.setPreferences(ctx, log, req, body)
	default:
		return "", nil, &replyError{code: CodeUnknownType, message: "unsupported type"}
	}
	return typ, reply, err
}

// parse returns the message body and its top-level fields.
func parse(req events.APIGatewayWebsocketProxyRequest) ([]byte, map[string]json.RawMessage, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, nil, &replyError{code: CodeInvalidJSON, message: "message must be a JSON object"}
		}
		body = decoded
	}
	if len(body) > MaxMessageSize {
		return nil, nil, &replyError{code: CodeTooLarge, message: fmt.Sprintf("message exceeds %d bytes", MaxMessageSize)}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, nil, &replyError{code: CodeInvalidJSON, message: "message must be a JSON object"}
	}
	return body, fields, nil
}

// decode unmarshals the body into the request struct v. The error names the
// first field of the wrong type as v's JSON tag spells it (not as the client
// sent it).
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		message := "a field has the wrong type"
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			message += ": " + typeErr.Field
		}
		return &replyError{code: CodeInvalidRequest, message: message}
	}
	return nil
}

// limit returns the limit a client asked for: def when absent, clamped to max,
// and an invalid_request error when below 1.
func limit(asked *int, def, max int) (int, error) {
	switch {
	case asked == nil:
		return def, nil
	case *asked < 1:
		return 0, &replyError{code: CodeInvalidRequest, message: "limit must be a positive integer"}
	default:
		return min(*asked, max), nil
	}
}

// notificationID returns id in canonical form (upper case), "" for "", and an
// invalid_request error if it is not a notification ID (a ULID).
func notificationID(id, field string) (string, error) {
	if id == "" {
		return "", nil
	}
	parsed, err := ulid.ParseStrict(id)
	if err != nil {
		return "", &replyError{code: CodeInvalidRequest, message: field + " must be a notification id"}
	}
	return parsed.String(), nil
}

// cursorField parses a client's cursor field (resume's after, history's
// before): "" is position 0; a cursor gives its position; a notification ID
// (from clients older than cursors) is returned in canonical form, for
// position to look up. Anything else is an invalid_request error.
func cursorField(value, field string) (p history.Position, id string, err error) {
	if p, ok := history.ParseCursor(value); ok || value == "" {
		return p, "", nil
	}
	id, err = notificationID(value, field)
	if err != nil {
		return 0, "", &replyError{code: CodeInvalidRequest, message: field + " must be a cursor or a notification id"}
	}
	return 0, id, nil
}

// position returns p, or the position of the user's notification id when id
// is set; found is false for an ID the user does not have (any more).
func (h *Message) position(ctx context.Context, userID string, p history.Position, id string) (_ history.Position, found bool, err error) {
	if id == "" {
		return p, true, nil
	}
	p, err = h.history.Position(ctx, userID, id)
	switch {
	case errors.Is(err, history.ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return p, true, nil
}

// user returns the ID of the user who holds the request's connection.
func (h *Message) user(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (string, error) {
	id := req.RequestContext.ConnectionID
	if id == "" {
		return "", &replyError{code: CodeUnauthorized, message: "connection is not registered"}
	}
	c, err := h.conns.Get(ctx, id)
	switch {
	case errors.Is(err, connection.ErrNotFound):
		return "", &replyError{code: CodeUnauthorized, message: "connection is not registered"}
	case err != nil:
		return "", fmt.Errorf("socket: find user of connection: %w", err)
	}
	return c.UserID, nil
}

// resume posts the user's notifications after the given cursor to this
// connection, in position order and marked replayed, then replies
// resume_complete with the cursor of the last one posted. It stops early,
// replying has_more, when less than ResumeReserve is left before the
// invocation's deadline, so that the reply always goes out; the client
// resumes again from the cursor. An "after" that is a notification ID the
// user no longer has replays from the oldest kept: repeats, which clients
// drop by ID, rather than gaps.
func (h *Message) resume(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest, body []byte) (any, error) {
	var r struct {
		After string `json:"after"`
		Limit *int   `json:"limit"`
		inboxFilter
	}
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	filter, err := r.filter()
	if err != nil {
		return nil, err
	}
	afterPos, afterID, err := cursorField(r.After, "after")
	if err != nil {
		return nil, err
	}
	n, err := limit(r.Limit, DefaultResumeLimit, MaxResumeLimit)
	if err != nil {
		return nil, err
	}
	userID, err := h.user(ctx, req)
	if err != nil {
		return nil, err
	}
	after, found, err := h.position(ctx, userID, afterPos, afterID)
	if err != nil {
		return nil, fmt.Errorf("socket: resume: %w", err)
	}
	if !found {
		log.Info("resume after an unknown id: replaying from the oldest kept")
	}
	page, err := h.history.After(ctx, userID, after, filter, n)
	if err != nil {
		return nil, fmt.Errorf("socket: resume: %w", err)
	}
	items := page.Items
	reply := resumeComplete{Type: TypeResumeComplete, HasMore: page.HasMore, Cursor: r.After}
	if len(items) == 0 {
		if page.HasMore { // a filter skipped every item read
			reply.Cursor = page.Next.Cursor()
		}
		return reply, nil
	}
	poster, err := h.poster(req)
	if err != nil {
		return nil, err
	}
	deadline, hasDeadline := ctx.Deadline()
	for i, item := range items {
		if hasDeadline && deadline.Sub(h.now()) < ResumeReserve {
			log.Info("resume stopped: deadline near", slog.Int("sent", i))
			reply.HasMore = true
			break
		}
		// Replayed with its read state, as history lists it: a notification
		// stored read (a muted category) or read in another tab must not
		// count as unread again after a reconnect.
		note := item.Notification
		note.Replayed = true
		data, err := json.Marshal(historyItem{Notification: note, Read: item.Read})
		if err != nil {
			return nil, fmt.Errorf("socket: resume: encode %s: %w", note.ID, err)
		}
		if err := poster.PostTo(ctx, req.RequestContext.ConnectionID, data); err != nil {
			if errors.Is(err, ErrGone) {
				log.Info("resume stopped: connection gone", slog.Int("sent", i))
				return nil, nil
			}
			return nil, fmt.Errorf("socket: resume: post %s after %d sent: %w", note.ID, i, err)
		}
		reply.Count++
		reply.Cursor = note.Cursor
	}
	if page.HasMore && reply.Count == len(items) {
		reply.Cursor = page.Next.Cursor() // past the items a filter skipped too
	}
	return reply, nil
}

// poster returns the Poster for the request's management API endpoint.
func (h *Message) poster(req events.APIGatewayWebsocketProxyRequest) (Poster, error) {
	endpoint := h.endpoint
	if endpoint == "" {
		rc := req.RequestContext
		if rc.DomainName == "" || rc.Stage == "" {
			return nil, errors.New("socket: no management endpoint: event has no domain name or stage")
		}
		endpoint = "https://" + rc.DomainName + "/" + rc.Stage
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.posters[endpoint]
	if !ok {
		p = h.newPoster(endpoint)
		h.posters[endpoint] = p
	}
	return p, nil
}

// listHistory replies with a page of the user's notifications before the
// given cursor, newest first.
func (h *Message) listHistory(ctx context.Context, req events.APIGatewayWebsocketProxyRequest, body []byte) (any, error) {
	var r struct {
		Before string `json:"before"`
		Limit  *int   `json:"limit"`
		inboxFilter
	}
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	filter, err := r.filter()
	if err != nil {
		return nil, err
	}
	beforePos, beforeID, err := cursorField(r.Before, "before")
	if err != nil {
		return nil, err
	}
	n, err := limit(r.Limit, DefaultHistoryLimit, MaxHistoryLimit)
	if err != nil {
		return nil, err
	}
	userID, err := h.user(ctx, req)
	if err != nil {
		return nil, err
	}
	before, found, err := h.position(ctx, userID, beforePos, beforeID)
	if err != nil {
		return nil, fmt.Errorf("socket: history: %w", err)
	}
	got := history.Page{Items: []history.Item{}}
	if found { // before an ID the user no longer has: nothing older is kept
		got, err = h.history.Before(ctx, userID, before, filter, n)
		if err != nil {
			return nil, fmt.Errorf("socket: history: %w", err)
		}
	}
	items, hasMore := got.Items, got.HasMore
	unread, err := h.history.UnreadCount(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("socket: history: %w", err)
	}
	page := historyPage{Type: TypeHistory, Items: make([]historyItem, len(items)), UnreadCount: unread, HasMore: hasMore,
		Cursor: got.Next.Cursor()}
	for i, item := range items {
		page.Items[i] = historyItem{Notification: item.Notification, Read: item.Read}
	}
	return page, nil
}

// markRead marks the given notifications, or all, read and replies with the
// unread count.
func (h *Message) markRead(ctx context.Context, req events.APIGatewayWebsocketProxyRequest, body []byte) (any, error) {
	var r struct {
		IDs      []string `json:"ids"`
		All      bool     `json:"all"`
		Category *string  `json:"category"`
	}
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if !r.All && r.IDs == nil && r.Category == nil {
		return nil, &replyError{code: CodeInvalidRequest, message: `give "ids", "category" or "all": true`}
	}
	category, err := categoryField(r.Category)
	if err != nil {
		return nil, err
	}
	ids, err := notificationIDs(r.IDs)
	if err != nil {
		return nil, err
	}
	userID, err := h.user(ctx, req)
	if err != nil {
		return nil, err
	}
	switch {
	case r.All:
		err = h.history.MarkAllRead(ctx, userID)
	default:
		if category != "" {
			err = h.history.MarkCategoryRead(ctx, userID, category)
		}
		if err == nil && len(ids) > 0 {
			err = h.history.MarkRead(ctx, userID, ids)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("socket: mark read: %w", err)
	}
	return h.readState(ctx, "mark read", userID)
}

// readState is the reply to mark_read and archive: the user's unread count.
func (h *Message) readState(ctx context.Context, op, userID string) (any, error) {
	unread, err := h.history.UnreadCount(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("socket: %s: %w", op, err)
	}
	return readState{Type: TypeReadState, UnreadCount: unread}, nil
}

// notificationIDs returns the ids of mark_read or archive in canonical form:
// at most MaxMarkReadIDs notification IDs.
func notificationIDs(raw []string) ([]string, error) {
	if len(raw) > MaxMarkReadIDs {
		return nil, &replyError{code: CodeInvalidRequest, message: fmt.Sprintf("at most %d ids at a time", MaxMarkReadIDs)}
	}
	ids := make([]string, 0, len(raw))
	for _, id := range raw {
		id, err := notificationID(id, "ids")
		if err != nil || id == "" {
			return nil, &replyError{code: CodeInvalidRequest, message: "ids must be notification ids"}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// workflowStatus replies with the state of one of the user's transactions.
func (h *Message) workflowStatus(ctx context.Context, req events.APIGatewayWebsocketProxyRequest, body []byte) (any, error) {
	var r struct {
		TransactionID string `json:"transaction_id"`
	}
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if r.TransactionID == "" || len(r.TransactionID) > MaxTransactionIDLength {
		return nil, &replyError{code: CodeInvalidRequest, message: "transaction_id must be a non-empty string"}
	}
	userID, err := h.user(ctx, req)
	if err != nil {
		return nil, err
	}
	reply, found, err := h.status(ctx, userID, r.TransactionID)
	switch {
	case err != nil:
		return nil, fmt.Errorf("socket: status: %w", err)
	case !found:
		return nil, &replyError{code: CodeNotFound, message: "no such transaction"}
	}
	return reply, nil
}

// Replies.
type (
	pong struct {
		Type      string          `json:"type"`
		Timestamp json.RawMessage `json:"timestamp"` // as the client sent it; null if absent
	}
	resumeComplete struct {
		Type    string `json:"type"`
		Count   int    `json:"count"`    // notifications posted
		HasMore bool   `json:"has_more"` // more follow: resume again after cursor
		Cursor  string `json:"cursor"`   // of the last posted; the "after" asked for when none
	}
	historyPage struct {
		Type        string        `json:"type"`
		Items       []historyItem `json:"items"` // newest first
		UnreadCount int           `json:"unread_count"`
		HasMore     bool          `json:"has_more"`         // older items exist
		Cursor      string        `json:"cursor,omitempty"` // with has_more: the before of the next page
	}
	historyItem struct {
		notification.Notification
		Read bool `json:"read"`
	}
	readState struct {
		Type        string `json:"type"`
		UnreadCount int    `json:"unread_count"`
	}
	errorReply struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

// replyError is a failure the client is told about with an error reply.
type replyError struct {
	code    string // one of the Code constants
	message string // fixed text for the client, never what it sent
}

func (e replyError) Error() string { return "socket: " + e.code + ": " + e.message }

func (e replyError) reply() errorReply {
	return errorReply{Type: TypeError, Code: e.code, Message: e.message}
}
