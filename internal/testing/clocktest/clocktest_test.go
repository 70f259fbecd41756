package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/clocktest"
)

var t0 = time.Date(2025, 9, 30, 8, 0, 0, 250_000_000, time.UTC)

func TestClock(t *testing.T) {
	tests := []struct {
		name     string
		advances []time.Duration
		want     time.Time
	}{
		{name: "new shows its start", want: t0},
		{name: "one advance", advances: []time.Duration{time.Minute}, want: t0.Add(time.Minute)},
		{name: "advances add up", advances: []time.Duration{time.Second, 2 * time.Hour, time.Nanosecond},
			want: t0.Add(2*time.Hour + time.Second + time.Nanosecond)},
		{name: "negative moves back", advances: []time.Duration{time.Hour, -90 * time.Minute}, want: t0.Add(-30 * time.Minute)},
		{name: "zero changes nothing", advances: []time.Duration{0}, want: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clocktest.New(t0)
			for _, d := range tt.advances {
				c.Advance(d)
			}
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("Now() = %v, want %v", got, tt.want)
			}
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("second Now() = %v, want %v: reading moved the clock", got, tt.want)
			}
		})
	}
}

// Advances from many goroutines all count; go test -race checks the locking.
func TestClockConcurrent(t *testing.T) {
	c := clocktest.New(t0)
	const n = 64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(n*time.Second); !got.Equal(want) {
		t.Errorf("after %d concurrent advances Now() = %v, want %v", n, got, want)
	}
}

// Set jumps to any time, backwards too, and advancing goes on from there.
func TestClockSet(t *testing.T) {
	c := clocktest.New(t0)
	earlier := t0.Add(-48 * time.Hour)
	c.Set(earlier)
	if got := c.Now(); !got.Equal(earlier) {
		t.Errorf("after Set Now() = %v, want %v", got, earlier)
	}
	c.Advance(time.Minute)
	if got, want := c.Now(), earlier.Add(time.Minute); !got.Equal(want) {
		t.Errorf("after Set and Advance Now() = %v, want %v", got, want)
	}
}
