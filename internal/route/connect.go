package route

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/auth"
	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/metrics"
)

// MaxUserAgentLength is how much of the User-Agent header is recorded, in bytes.
const MaxUserAgentLength = 256

// Reasons of metrics.ConnectsRefused: why Connect refused a request. The
// set is fixed.
const (
	RefusedNoToken      = "no_token"         // 401: no token in any accepted location
	RefusedExpired      = "expired"          // 401: the token's exp has passed, or it has none
	RefusedTokenType    = "token_type"       // 401: a token of a type not accepted (a refresh token)
	RefusedInvalidToken = "invalid_token"    // 401: any other bad token: malformed, forged, too large, not yet valid, no user
	RefusedNoConnection = "no_connection_id" // 400: the event has no connection ID
	RefusedStoreError   = "store_error"      // 500: the connection could not be stored
)

// Connect handles $connect: it authenticates the client (see auth.Extract and
// auth.Verifier.Verify) and records the connection. It is safe for concurrent use.
type Connect struct {
	verifier *auth.Verifier
	conns    connection.Store
	now      func() time.Time
	log      *slog.Logger
	metrics  *metrics.Recorder // nil: none
}

// NewConnect returns a Connect that checks tokens with verifier, records
// connections in conns with the time from now, and logs to log (nil: discard).
func NewConnect(verifier *auth.Verifier, conns connection.Store, now func() time.Time, log *slog.Logger) *Connect {
	return &Connect{verifier: verifier, conns: conns, now: now, log: orDiscard(log)}
}

// WithMetrics returns a copy of h that counts the requests it lets in in
// metrics.ConnectsAccepted and those it refuses in metrics.ConnectsRefused,
// by Reason (the Refused constants), in rec.
func (h *Connect) WithMetrics(rec *metrics.Recorder) *Connect {
	c := *h
	c.metrics = rec
	return &c
}

// Handle authenticates a $connect request and records its connection.
//
// It returns 401 if the request has no valid token, before writing anything
// (a user_id query parameter alone is no credential); 400 if the event has no
// connection ID; 500 if the connection cannot be stored; otherwise 200, with
// a Sec-WebSocket-Protocol header echoing one of the client's offers when it
// made any (see auth.Credentials.Protocol). The error is always nil.
func (h *Connect) Handle(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	ctx, log := invocation(ctx, h.log, req)

	creds, err := auth.Extract(req)
	var userID string
	if err == nil {
		userID, err = h.verifier.Verify(creds.Token)
	}
	if err != nil {
		log.Info("connect rejected", slog.String("reason", err.Error()), slog.String("token_source", cmp.Or(string(creds.Source), "none")))
		h.refused(refusal(err))
		return status(http.StatusUnauthorized), nil
	}

	rc := req.RequestContext
	if rc.ConnectionID == "" {
		log.Warn("connect event without connection id", slog.String("user_id", userID))
		h.refused(RefusedNoConnection)
		return status(http.StatusBadRequest), nil
	}
	c := connection.New(rc.ConnectionID, userID, h.now(), rc.Identity.SourceIP, userAgent(req))
	if err := h.conns.Put(ctx, c); err != nil {
		log.Error("connect store failed", slog.String("user_id", userID), slog.Any("error", err))
		h.refused(RefusedStoreError)
		return status(http.StatusInternalServerError), nil
	}

	log.Info("connected", slog.String("user_id", userID), slog.String("token_source", string(creds.Source)))
	h.metrics.Count(metrics.ConnectsAccepted, 1)
	resp := events.APIGatewayProxyResponse{StatusCode: http.StatusOK}
	if creds.Protocol != "" {
		resp.Headers = map[string]string{"Sec-WebSocket-Protocol": creds.Protocol}
	}
	return resp, nil
}

// refused counts a refused request.
func (h *Connect) refused(reason string) {
	h.metrics.Count(metrics.ConnectsRefused, 1, metrics.Reason(reason))
}

// refusal is the Reason of a request refused because of err, from
// auth.Extract or auth.Verifier.Verify.
func refusal(err error) string {
	switch {
	case errors.Is(err, auth.ErrNoToken):
		return RefusedNoToken
	case errors.Is(err, auth.ErrExpired):
		return RefusedExpired
	case errors.Is(err, auth.ErrTokenType):
		return RefusedTokenType
	}
	return RefusedInvalidToken
}

// userAgent returns the client's user agent, valid UTF-8 and cut to
// MaxUserAgentLength bytes on a character boundary.
func userAgent(req events.APIGatewayWebsocketProxyRequest) string {
	ua := req.RequestContext.Identity.UserAgent
	if ua == "" {
		for k, v := range req.Headers {
			if strings.EqualFold(k, "User-Agent") {
				ua = v
			}
		}
	}
	ua = strings.ToValidUTF8(ua, "\uFFFD")
	if len(ua) <= MaxUserAgentLength {
		return ua
	}
	cut := MaxUserAgentLength
	for cut > 0 && !utf8.RuneStart(ua[cut]) {
		cut--
	}
	return ua[:cut]
}
