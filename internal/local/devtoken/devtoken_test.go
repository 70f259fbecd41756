package devtoken_test

import (
	"errors"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/auth"
	"github.com/finance/fbdi-notify/internal/local/devtoken"
)

func TestMint(t *testing.T) {
	secret := []byte("dev-secret")
	issued := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		userID   string
		ttl      time.Duration
		verifyAt time.Time
		wantErr  error // from Verify
	}{
		{name: "valid right after minting", userID: "42", ttl: time.Hour, verifyAt: issued, wantErr: nil},
		{name: "expired after ttl", userID: "42", ttl: time.Hour, verifyAt: issued.Add(time.Hour + time.Minute), wantErr: auth.ErrExpired},
		{name: "default ttl", userID: "alice", ttl: 0, verifyAt: issued.Add(devtoken.DefaultTTL - time.Minute)},
		{name: "default ttl runs out", userID: "alice", ttl: 0, verifyAt: issued.Add(devtoken.DefaultTTL + time.Minute), wantErr: auth.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := devtoken.Mint(secret, tt.userID, issued, tt.ttl)
			if err != nil {
				t.Fatalf("Mint() error = %v", err)
			}
			v, err := auth.NewVerifier(secret, 0, func() time.Time { return tt.verifyAt })
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(token)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v; want %v", err, tt.wantErr)
			}
			if err == nil && got != tt.userID {
				t.Fatalf("Verify() user = %q; want %q", got, tt.userID)
			}
		})
	}
}

func TestMintRejectsEmptyInput(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		userID string
	}{
		{name: "empty secret", secret: nil, userID: "42"},
		{name: "empty user", secret: []byte("s"), userID: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if token, err := devtoken.Mint(tt.secret, tt.userID, time.Now(), time.Hour); err == nil {
				t.Fatalf("Mint() = %q, nil; want an error", token)
			}
		})
	}
}
