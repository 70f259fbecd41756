package auth

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultLeeway is the clock skew allowed when checking exp and nbf.
const DefaultLeeway = 30 * time.Second

// MaxUserIDLength is the longest user ID accepted, in bytes.
const MaxUserIDLength = 256

// userClaims are the claims that name the user, in order of precedence.
var userClaims = []string{"user_id", "id", "username"}

// maxSafeInteger is the largest integer a float64 holds exactly (2^53).
const maxSafeInteger = 1 << 53

// Verifier checks HS256 tokens signed with one shared secret. It is safe for
// concurrent use.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
}

// NewVerifier returns a Verifier for tokens signed with secret. leeway is the
// clock skew allowed for exp and nbf (use DefaultLeeway); now is the clock
// (time.Now in production). It returns ErrNoSecret if secret is empty, since
// an empty HMAC key would accept tokens anyone can sign.
func NewVerifier(secret []byte, leeway time.Duration, now func() time.Time) (*Verifier, error) {
	if len(secret) == 0 {
		return nil, ErrNoSecret
	}
	return &Verifier{
		secret: append([]byte(nil), secret...),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
			jwt.WithExpirationRequired(),
			jwt.WithJSONNumber(),
		),
	}, nil
}

// Verify checks token and returns the user it was issued to.
//
// The token must be an HS256 JWT signed with the Verifier's secret, carry an
// exp that has not passed and, if it has one, an nbf that has been reached
// (both within the leeway). The user ID is the first of the claims user_id,
// id and username that is present; it must be a non-blank string of at most
// MaxUserIDLength bytes or an integral JSON number (123 yields "123").
// When the first present claim is unusable (empty, bool, object, 1.5, null...)
// the token is rejected rather than falling back to the next claim.
//
// Errors match ErrTooLarge or ErrInvalidToken (and one of its refinements);
// they never contain the token.
func (v *Verifier) Verify(token string) (userID string, err error) {
	if len(token) > MaxTokenSize {
		return "", ErrTooLarge
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.key); err != nil {
		return "", classify(err)
	}
	for _, name := range userClaims {
		raw, ok := claims[name]
		if !ok {
			continue
		}
		id, ok := renderUserID(raw)
		if !ok {
			return "", ErrNoUser
		}
		return id, nil
	}
	return "", ErrNoUser
}

func (v *Verifier) key(*jwt.Token) (any, error) { return v.secret, nil }

// classify maps a jwt error to one of this package's sentinels, dropping the
// library's text (which may quote parts of the decoded token).
func classify(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ErrMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return ErrSignature
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return ErrNotYetValid
	default:
		return ErrInvalidToken
	}
}

// renderUserID renders a user claim value as an ID, reporting whether it is usable.
func renderUserID(raw any) (string, bool) {
	switch v := raw.(type) {
	case string:
		if strings.TrimSpace(v) == "" || len(v) > MaxUserIDLength || !utf8.ValidString(v) {
			return "", false
		}
		return v, true
	case json.Number:
		return integer(string(v))
	default:
		return "", false
	}
}

// integer renders the JSON number s in plain decimal if its value is an
// integer: "123", "123.0" and "1.23e2" all yield "123". Integers beyond int64
// in plain notation, or beyond 2^53 in exponent or decimal notation, are
// rejected, as are values with a fraction.
func integer(s string) (string, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(n, 10), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f > maxSafeInteger || f < -maxSafeInteger || f != math.Trunc(f) {
		return "", false
	}
	return strconv.FormatInt(int64(f), 10), true
}
