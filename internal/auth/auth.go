// Package auth authenticates WebSocket clients on $connect.
//
// Clients present an HS256 JWT signed with the secret shared with the
// upstream web application (Django SimpleJWT style; docs/protocol.md#authentication). Extract
// finds the token in the request, Verifier checks it and yields the user ID.
// Errors are sentinels that never contain the token, so they are safe to log.
package auth

import (
	"errors"
	"fmt"
)

// Errors returned by Extract and Verify. Every verification failure matches
// ErrInvalidToken (errors.Is); the more specific ones say why.
var (
	// ErrNoToken means the request carries no token in any accepted location.
	ErrNoToken = errors.New("auth: no token")
	// ErrTooLarge means the token, or a header that carries it, exceeds MaxTokenSize.
	ErrTooLarge = errors.New("auth: token too large")
	// ErrInvalidToken means the token is not a valid token for this service.
	ErrInvalidToken = errors.New("auth: invalid token")

	// ErrMalformed means the token is not a well-formed JWT.
	ErrMalformed = fmt.Errorf("%w: malformed", ErrInvalidToken)
	// ErrSignature means the signature or algorithm is wrong: only HS256
	// signed with the configured secret is accepted.
	ErrSignature = fmt.Errorf("%w: bad signature or algorithm", ErrInvalidToken)
	// ErrExpired means the token's exp (plus leeway) has passed, or it has no exp.
	ErrExpired = fmt.Errorf("%w: expired or without exp", ErrInvalidToken)
	// ErrNotYetValid means the token's nbf (minus leeway) has not been reached.
	ErrNotYetValid = fmt.Errorf("%w: not yet valid", ErrInvalidToken)
	// ErrNoUser means the token has no usable user claim (see Verifier.Verify).
	ErrNoUser = fmt.Errorf("%w: no valid user claim", ErrInvalidToken)
	// ErrTokenType means the token's token_type claim is not an accepted type
	// (a SimpleJWT refresh token, say).
	ErrTokenType = fmt.Errorf("%w: token type not accepted", ErrInvalidToken)

	// ErrNoSecret is returned by NewVerifier for an empty secret.
	ErrNoSecret = errors.New("auth: empty secret")
)
