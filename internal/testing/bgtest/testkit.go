// Package bgtest holds the small helpers several packages' tests share: a
// buffer that goroutines write to while the test reads it, and a way to run
// a blocking call (a poller, a consumer) in the background until the test
// stops it.
package bgtest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer safe for concurrent writes and reads: the
// output of a process or a logger, read by the test while it is written.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Background runs run with a context until the returned stop is called
// (or the test ends): stop cancels the context and fails tb unless run
// returns nil within guard. Calling stop again does nothing.
func Background(tb testing.TB, name string, guard time.Duration, run func(ctx context.Context) error) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("%s: %v", name, err)
				}
			case <-time.After(guard):
				tb.Errorf("%s did not return within %v after its context ended", name, guard)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}
