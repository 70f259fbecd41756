package bgtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

func TestBufferConcurrentWrites(t *testing.T) {
	var b bgtest.Buffer
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 50 {
		t.Errorf("%d lines, want 50", n)
	}
}

// fakeTB records Errorf calls; everything else is the real test's.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func TestBackground(t *testing.T) {
	tests := []struct {
		name      string
		run       func(ctx context.Context) error
		wantError string // in the reported failure; "" means none
	}{
		{name: "returns nil when stopped", run: func(ctx context.Context) error { <-ctx.Done(); return nil }},
		{name: "an error is reported", run: func(ctx context.Context) error { <-ctx.Done(); return errors.New("boom") },
			wantError: "poller: boom"},
		{name: "not returning is reported", run: func(context.Context) error { select {} }, wantError: "did not return"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeTB{TB: t}
			stop := bgtest.Background(f, "poller", 50*time.Millisecond, tt.run)
			stop()
			stop() // a second call does nothing
			got := strings.Join(f.errors, "; ")
			if (tt.wantError == "") != (got == "") || !strings.Contains(got, tt.wantError) || len(f.errors) > 1 {
				t.Errorf("reported %q, want %q once", got, tt.wantError)
			}
		})
	}
}
