package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/finance/fbdi-notify/internal/auth"
	"github.com/finance/fbdi-notify/internal/userid"
)

var (
	secret = []byte("test-secret-shared-with-the-web-app")
	now    = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
)

// sign returns a token for claims signed with method and key.
func sign(tb testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	tb.Helper()
	token, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return token
}

// valid returns claims that pass verification at now, with extra merged in.
func valid(extra jwt.MapClaims) jwt.MapClaims {
	c := jwt.MapClaims{"token_type": "access", "exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix()}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func newVerifier(tb testing.TB) *auth.Verifier {
	tb.Helper()
	v, err := auth.NewVerifier(secret, auth.DefaultLeeway, func() time.Time { return now })
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestVerify(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, secret, c) }
	tampered := func() string {
		good := hs(valid(jwt.MapClaims{"user_id": "42"}))
		forged := strings.Split(hs(valid(jwt.MapClaims{"user_id": "1"})), ".")
		parts := strings.Split(good, ".")
		return parts[0] + "." + forged[1] + "." + parts[2] // user 1's claims under user 42's signature
	}
	tests := []struct {
		name    string
		token   string
		want    string // user ID when err is nil
		wantErr error
	}{
		{name: "string user_id", token: hs(valid(jwt.MapClaims{"user_id": "42"})), want: "42"},
		{name: "integer user_id", token: hs(valid(jwt.MapClaims{"user_id": 123})), want: "123"},
		{name: "integer written as 123.0", token: hs(valid(jwt.MapClaims{"user_id": json.Number("123.0")})), want: "123"},
		{name: "integer written with exponent", token: hs(valid(jwt.MapClaims{"user_id": json.Number("1.23e2")})), want: "123"},
		{name: "largest integer a float64 holds exactly", token: hs(valid(jwt.MapClaims{"user_id": json.Number("9007199254740991")})), want: "9007199254740991"},
		{name: "negative integer", token: hs(valid(jwt.MapClaims{"user_id": -7})), want: "-7"},
		{name: "user_id wins over id and username", token: hs(valid(jwt.MapClaims{"user_id": "1", "id": "2", "username": "carol"})), want: "1"},
		{name: "id wins over username", token: hs(valid(jwt.MapClaims{"id": 2, "username": "carol"})), want: "2"},
		{name: "username alone", token: hs(valid(jwt.MapClaims{"username": "carol"})), want: "carol"},
		{name: "expired within leeway", token: hs(valid(jwt.MapClaims{"user_id": "42", "exp": now.Add(-29 * time.Second).Unix()})), want: "42"},
		{name: "nbf within leeway", token: hs(valid(jwt.MapClaims{"user_id": "42", "nbf": now.Add(29 * time.Second).Unix()})), want: "42"},
		{name: "nbf reached", token: hs(valid(jwt.MapClaims{"user_id": "42", "nbf": now.Add(-time.Hour).Unix()})), want: "42"},

		{name: "expired", token: hs(valid(jwt.MapClaims{"user_id": "42", "exp": now.Add(-31 * time.Second).Unix()})), wantErr: auth.ErrExpired},
		{name: "no exp", token: hs(valid(jwt.MapClaims{"user_id": "42", "exp": nil})), wantErr: auth.ErrExpired},
		{name: "exp not a number", token: hs(valid(jwt.MapClaims{"user_id": "42", "exp": "tomorrow"})), wantErr: auth.ErrInvalidToken},
		{name: "not yet valid", token: hs(valid(jwt.MapClaims{"user_id": "42", "nbf": now.Add(31 * time.Second).Unix()})), wantErr: auth.ErrNotYetValid},
		{name: "forged signature", token: tampered(), wantErr: auth.ErrSignature},
		{name: "wrong secret", token: sign(t, jwt.SigningMethodHS256, []byte("another-secret"), valid(jwt.MapClaims{"user_id": "42"})), wantErr: auth.ErrSignature},
		{name: "alg none", token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(jwt.MapClaims{"user_id": "42"})), wantErr: auth.ErrSignature},
		{name: "RS256", token: sign(t, jwt.SigningMethodRS256, rsaKey, valid(jwt.MapClaims{"user_id": "42"})), wantErr: auth.ErrSignature},
		{name: "HS512 with the right secret", token: sign(t, jwt.SigningMethodHS512, secret, valid(jwt.MapClaims{"user_id": "42"})), wantErr: auth.ErrSignature},
		{name: "unknown alg", token: "eyJhbGciOiJYWDk5OSIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiNDIifQ.c2ln", wantErr: auth.ErrSignature},
		{name: "not a JWT", token: "not-a-token", wantErr: auth.ErrMalformed},
		{name: "bad base64", token: "e30.!!!.c2ln", wantErr: auth.ErrMalformed},
		{name: "empty", token: "", wantErr: auth.ErrMalformed},
		{name: "oversized", token: hs(valid(jwt.MapClaims{"user_id": "42", "pad": strings.Repeat("x", auth.MaxTokenSize)})), wantErr: auth.ErrTooLarge},

		{name: "no user claim", token: hs(valid(nil)), wantErr: auth.ErrNoUser},
		{name: "empty user_id", token: hs(valid(jwt.MapClaims{"user_id": ""})), wantErr: auth.ErrNoUser},
		{name: "blank user_id", token: hs(valid(jwt.MapClaims{"user_id": "  \t"})), wantErr: auth.ErrNoUser},
		{name: "bool user_id", token: hs(valid(jwt.MapClaims{"user_id": true})), wantErr: auth.ErrNoUser},
		{name: "object user_id", token: hs(valid(jwt.MapClaims{"user_id": map[string]any{"id": 1}})), wantErr: auth.ErrNoUser},
		{name: "array user_id", token: hs(valid(jwt.MapClaims{"user_id": []any{"42"}})), wantErr: auth.ErrNoUser},
		{name: "fractional user_id", token: hs(valid(jwt.MapClaims{"user_id": 1.5})), wantErr: auth.ErrNoUser},
		{name: "huge user_id", token: hs(valid(jwt.MapClaims{"user_id": json.Number("1e300")})), wantErr: auth.ErrNoUser},
		{name: "integer beyond float64 precision", token: hs(valid(jwt.MapClaims{"user_id": json.Number("9007199254740993")})), wantErr: auth.ErrNoUser},
		{name: "overlong user_id", token: hs(valid(jwt.MapClaims{"user_id": strings.Repeat("u", userid.MaxLength+1)})), wantErr: auth.ErrNoUser},
		{name: "control character in user_id", token: hs(valid(jwt.MapClaims{"user_id": "carol\n"})), wantErr: auth.ErrNoUser},
		{name: "null user_id", token: hs(valid(jwt.MapClaims{"user_id": json.RawMessage("null")})), wantErr: auth.ErrNoUser},
		{name: "bad user_id does not fall back to id", token: hs(valid(jwt.MapClaims{"user_id": false, "id": "2"})), wantErr: auth.ErrNoUser},

		{name: "no token_type claim", token: hs(valid(jwt.MapClaims{"user_id": "42", "token_type": nil})), want: "42"},
		{name: "refresh token", token: hs(valid(jwt.MapClaims{"user_id": "42", "token_type": "refresh"})), wantErr: auth.ErrTokenType},
		{name: "sliding token", token: hs(valid(jwt.MapClaims{"user_id": "42", "token_type": "sliding"})), wantErr: auth.ErrTokenType},
		{name: "token_type in another case", token: hs(valid(jwt.MapClaims{"user_id": "42", "token_type": "Access"})), wantErr: auth.ErrTokenType},
		{name: "empty token_type", token: hs(valid(jwt.MapClaims{"user_id": "42", "token_type": ""})), wantErr: auth.ErrTokenType},
		{name: "token_type not a string", token: hs(valid(jwt.MapClaims{"user_id": "42", "token_type": 1})), wantErr: auth.ErrTokenType},
		{name: "null token_type", token: hs(valid(jwt.MapClaims{"user_id": "42", "token_type": json.RawMessage("null")})), wantErr: auth.ErrTokenType},
	}
	v := newVerifier(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(tt.token)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Verify() = %q, %v; want error %v", got, err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("Verify() user = %q with error; want empty", got)
				}
				if !errors.Is(err, auth.ErrInvalidToken) && !errors.Is(err, auth.ErrTooLarge) {
					t.Errorf("error %v matches neither ErrInvalidToken nor ErrTooLarge", err)
				}
				assertNoTokenIn(t, err.Error(), tt.token)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Verify() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestVerifyLeewayIsConfigurable(t *testing.T) {
	token := sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"user_id": "42", "exp": now.Add(-10 * time.Second).Unix()}))
	tests := []struct {
		name    string
		leeway  time.Duration
		wantErr error
	}{
		{name: "default leeway accepts 10s skew", leeway: auth.DefaultLeeway},
		{name: "no leeway rejects 10s skew", leeway: 0, wantErr: auth.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := auth.NewVerifier(secret, tt.leeway, func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(token); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v; want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyTokenTypesAreConfigurable(t *testing.T) {
	token := func(typ string) string {
		return sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"user_id": "42", "token_type": typ}))
	}
	tests := []struct {
		name    string
		opts    []auth.Option
		typ     string // the token's token_type
		wantErr error
	}{
		{name: "default refuses refresh", typ: "refresh", wantErr: auth.ErrTokenType},
		{name: "empty list keeps the default", opts: []auth.Option{auth.WithTokenTypes()}, typ: "refresh", wantErr: auth.ErrTokenType},
		{name: "sliding accepted when listed", opts: []auth.Option{auth.WithTokenTypes("access", "sliding")}, typ: "sliding"},
		{name: "access refused when not listed", opts: []auth.Option{auth.WithTokenTypes("sliding")}, typ: "access", wantErr: auth.ErrTokenType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := auth.NewVerifier(secret, 0, func() time.Time { return now }, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(token(tt.typ)); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify(token_type %q) error = %v; want %v", tt.typ, err, tt.wantErr)
			}
		})
	}
}

func TestVerifyUsesInjectedClock(t *testing.T) {
	clock := now
	v, err := auth.NewVerifier(secret, 0, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	token := sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"user_id": "42"}))
	if _, err := v.Verify(token); err != nil {
		t.Fatalf("Verify() before exp: %v", err)
	}
	clock = now.Add(time.Hour)
	if _, err := v.Verify(token); !errors.Is(err, auth.ErrExpired) {
		t.Fatalf("Verify() after exp = %v; want ErrExpired", err)
	}
}

func TestNewVerifierRejectsEmptySecret(t *testing.T) {
	if _, err := auth.NewVerifier(nil, auth.DefaultLeeway, time.Now); !errors.Is(err, auth.ErrNoSecret) {
		t.Fatalf("NewVerifier(nil) error = %v; want ErrNoSecret", err)
	}
}

func TestNewVerifierCopiesSecret(t *testing.T) {
	key := append([]byte(nil), secret...)
	v, err := auth.NewVerifier(key, auth.DefaultLeeway, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	key[0] ^= 0xff // the caller reusing its buffer must not change the verifier
	token := sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"user_id": "42"}))
	if _, err := v.Verify(token); err != nil {
		t.Fatalf("Verify() = %v after caller changed its key buffer", err)
	}
}

// assertNoTokenIn fails if text contains token or any of its segments.
func assertNoTokenIn(tb testing.TB, text, token string) {
	tb.Helper()
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 8 && strings.Contains(text, part) {
			tb.Fatalf("text %q contains part of the token", text)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	v := newVerifier(b)
	token := sign(b, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"user_id": "42"}))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(token); err != nil {
			b.Fatal(err)
		}
	}
}
