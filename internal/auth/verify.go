package auth

import (
	"errors"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/finance/fbdi-notify/internal/userid"
)

// DefaultLeeway is the clock skew allowed when checking exp and nbf.
const DefaultLeeway = 30 * time.Second

// userClaims are the claims that name the user, in order of precedence.
var userClaims = []string{"user_id", "id", "username"}

// DefaultTokenTypes are the token_type claim values accepted unless
// WithTokenTypes says otherwise: SimpleJWT's access tokens. Its refresh tokens
// are signed with the same key and live for days, so they must not connect.
var DefaultTokenTypes = []string{"access"}

// Verifier checks HS256 tokens signed with one shared secret. It is safe for
// concurrent use.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
	types  []string // accepted token_type values
}

// Option changes how a Verifier checks tokens.
type Option func(*Verifier)

// WithTokenTypes sets the token_type claim values accepted (DefaultTokenTypes
// by default). A token without the claim is accepted whatever the list, for
// upstreams that do not set it; an empty list keeps the default.
func WithTokenTypes(types ...string) Option {
	return func(v *Verifier) {
		if len(types) > 0 {
			v.types = append([]string(nil), types...)
		}
	}
}

// NewVerifier returns a Verifier for tokens signed with secret. leeway is the
// clock skew allowed for exp and nbf (use DefaultLeeway); now is the clock
// (time.Now in production). It returns ErrNoSecret if secret is empty, since
// an empty HMAC key would accept tokens anyone can sign.
func NewVerifier(secret []byte, leeway time.Duration, now func() time.Time, opts ...Option) (*Verifier, error) {
	if len(secret) == 0 {
		return nil, ErrNoSecret
	}
	v := &Verifier{
		secret: append([]byte(nil), secret...),
		types:  DefaultTokenTypes,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
			jwt.WithExpirationRequired(),
			jwt.WithJSONNumber(),
		),
	}
	for _, o := range opts {
		o(v)
	}
	return v, nil
}

// Verify checks token and returns the user it was issued to.
//
// The token must be an HS256 JWT signed with the Verifier's secret, carry an
// exp that has not passed and, if it has one, an nbf that has been reached
// (both within the leeway). The user ID is the first of the claims user_id,
// id and username that is present, read by the rule of package userid: a
// string kept as it is or a whole number (123 and 1.23e2 yield "123").
// When the first present claim is unusable (empty, bool, object, 1.5, null...)
// the token is rejected rather than falling back to the next claim.
// A token_type claim, when present, must be one of the accepted types
// (ErrTokenType otherwise); a token without it is accepted.
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
	if typ, ok := claims["token_type"]; ok && !v.accepts(typ) {
		return "", ErrTokenType
	}
	for _, name := range userClaims {
		raw, ok := claims[name]
		if !ok {
			continue
		}
		id, err := userid.FromClaim(raw)
		if err != nil {
			return "", ErrNoUser
		}
		return id, nil
	}
	return "", ErrNoUser
}

// accepts reports whether typ, a token_type claim, is an accepted type.
func (v *Verifier) accepts(typ any) bool {
	s, ok := typ.(string)
	return ok && slices.Contains(v.types, s)
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
