package auth

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// MaxTokenSize is the largest token accepted, and the largest value of a
// header or query parameter that carries one, in bytes (8 KB).
const MaxTokenSize = 8 << 10

// Source says where in the request a token was found.
type Source string

// Token locations, in the order Extract looks at them.
const (
	FromProtocol      Source = "protocol"      // Sec-WebSocket-Protocol offer
	FromAuthorization Source = "authorization" // Authorization: Bearer
	FromQuery         Source = "query"         // ?token=
)

// Credentials is the token a connect request presents and the subprotocol
// the response must echo. Its String and LogValue methods leave out the
// token, so it is safe to print or log.
type Credentials struct {
	Token  string // raw JWT; never log it
	Source Source // where Token was found

	// Protocol is the Sec-WebSocket-Protocol offer the $connect response
	// must echo, or "" when the client offered none. Browsers fail the
	// handshake if a client that offered protocols gets none back, and
	// API Gateway requires the echoed value to be one of the offers.
	//
	// When the client offered a plain protocol name besides the token (the
	// usual `new WebSocket(url, ["bearer", token])`), the first such name is
	// echoed so that the token is not reflected; when the token is the only
	// offer, the token itself is echoed (to the same client, which already
	// holds it). When the token came from elsewhere, the first offer is echoed.
	Protocol string
}

// String describes c without its token.
func (c Credentials) String() string {
	return fmt.Sprintf("auth.Credentials{Source: %q, EchoesToken: %t}", c.Source, c.echoesToken())
}

// GoString describes c without its token, for %#v.
func (c Credentials) GoString() string { return c.String() }

// LogValue describes c without its token, for log/slog.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("source", string(c.Source)), slog.Bool("echoes_token", c.echoesToken()))
}

func (c Credentials) echoesToken() bool { return c.Protocol != "" && c.Protocol == c.Token }

// Extract finds the token in a $connect request, looking in order at:
//
//  1. the Sec-WebSocket-Protocol header: a comma-separated list of offers,
//     of which the first that has the shape of a JWT is the token;
//  2. the Authorization header, scheme Bearer (case-insensitive);
//  3. the query parameter token.
//
// Header names are matched case-insensitively in both Headers and
// MultiValueHeaders (API Gateway fills both; MultiValueHeaders wins when it
// has the header). The first location that holds a token decides: a bad
// token there is not replaced by one from a later location.
//
// It returns ErrNoToken when no location holds one, and ErrTooLarge when a
// header or the query parameter that carries one exceeds MaxTokenSize. It
// does not verify the token.
func Extract(req events.APIGatewayWebsocketProxyRequest) (Credentials, error) {
	offers, err := protocolOffers(req)
	if err != nil {
		return Credentials{}, err
	}
	if i := slices.IndexFunc(offers, looksLikeJWT); i >= 0 {
		echo := offers[i]
		if j := slices.IndexFunc(offers, isName); j >= 0 {
			echo = offers[j]
		}
		return Credentials{Token: offers[i], Source: FromProtocol, Protocol: echo}, nil
	}
	var echo string // the token is elsewhere; still echo an offer if there is one
	if len(offers) > 0 {
		echo = offers[0]
	}

	for _, v := range headerValues(req, "Authorization") {
		if len(v) > MaxTokenSize {
			return Credentials{}, ErrTooLarge
		}
		scheme, token, _ := strings.Cut(strings.TrimSpace(v), " ")
		if token = strings.TrimSpace(token); strings.EqualFold(scheme, "Bearer") && token != "" {
			return Credentials{Token: token, Source: FromAuthorization, Protocol: echo}, nil
		}
	}

	for _, v := range queryValues(req, "token") {
		if len(v) > MaxTokenSize {
			return Credentials{}, ErrTooLarge
		}
		if v != "" {
			return Credentials{Token: v, Source: FromQuery, Protocol: echo}, nil
		}
	}
	return Credentials{}, ErrNoToken
}

// protocolOffers returns the non-empty Sec-WebSocket-Protocol offers in the
// order the client made them.
func protocolOffers(req events.APIGatewayWebsocketProxyRequest) ([]string, error) {
	var offers []string
	size := 0
	for _, v := range headerValues(req, "Sec-WebSocket-Protocol") {
		if size += len(v); size > MaxTokenSize {
			return nil, ErrTooLarge
		}
		for offer := range strings.SplitSeq(v, ",") {
			if offer = strings.TrimSpace(offer); offer != "" {
				offers = append(offers, offer)
			}
		}
	}
	return offers, nil
}

// headerValues returns the values of the named header, matching names
// case-insensitively, from MultiValueHeaders if it has the header, else from Headers.
func headerValues(req events.APIGatewayWebsocketProxyRequest, name string) []string {
	var values []string
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) {
			values = append(values, vs...)
		}
	}
	if values != nil {
		return values
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			values = append(values, v)
		}
	}
	return values
}

// queryValues returns the values of the named query parameter (names are
// case-sensitive), from MultiValueQueryStringParameters if it has the
// parameter, else from QueryStringParameters.
func queryValues(req events.APIGatewayWebsocketProxyRequest, name string) []string {
	if vs, ok := req.MultiValueQueryStringParameters[name]; ok && len(vs) > 0 {
		return vs
	}
	if v, ok := req.QueryStringParameters[name]; ok {
		return []string{v}
	}
	return nil
}

// isName reports whether the offer s is a plain protocol name, not a token.
func isName(s string) bool { return !looksLikeJWT(s) }

// looksLikeJWT reports whether s has the shape of a compact JWS: three
// base64url segments separated by dots, of which the first two are non-empty
// (the third is empty for alg "none", which Verify then rejects).
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, r := range s {
		switch {
		case 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '-', r == '_', r == '.', r == '=':
		default:
			return false
		}
	}
	return true
}
