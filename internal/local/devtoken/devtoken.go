// Package devtoken mints access tokens for the local stack, shaped like the
// ones the upstream web application issues (Django SimpleJWT: HS256 with
// token_type, exp, iat, jti and user_id). Deployed functions never import it:
// there, tokens come only from the upstream application.
package devtoken

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTTL is the lifetime of a minted token when Mint is given ttl <= 0.
const DefaultTTL = 12 * time.Hour

// Mint returns an HS256 token for userID signed with secret, issued at now
// and expiring after ttl (DefaultTTL if ttl <= 0). It returns an error if
// secret or userID is empty.
func Mint(secret []byte, userID string, now time.Time, ttl time.Duration) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("devtoken: empty secret")
	}
	if userID == "" {
		return "", errors.New("devtoken: empty user ID")
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	claims := jwt.MapClaims{
		"token_type": "access",
		"user_id":    userID,
		"iat":        now.Unix(),
		"exp":        now.Add(ttl).Unix(),
		"jti":        rand.Text(),
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("devtoken: sign: %w", err)
	}
	return token, nil
}
