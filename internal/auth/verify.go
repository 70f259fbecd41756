package auth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/finance/fbdi-notify/internal/userid"
)

// DefaultLeeway is the clock skew allowed when checking exp and nbf.
const DefaultLeeway = 30 * time.Second

// userClaims are the claims that name the user, in order of precedence.
var userClaims = []string{"user_id", "id", "username"}

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
// id and username that is present, read by the rule of package userid: a
// string kept as it is or a whole number (123 and 1.23e2 yield "123").
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
		id, err := userid.FromClaim(raw)
		if err != nil {
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
