package apigw

import (
	"sync"
	"time"
)

// messageTooManyRequests is what the gateway answers a throttled request.
const messageTooManyRequests = "Too Many Requests"

// Throttle is a route's throttling as a stage's route settings give it
// (ThrottlingBurstLimit, ThrottlingRateLimit): a token bucket that holds at
// most Burst requests and refills at Rate requests per second. A request
// that finds the bucket empty is refused: a $connect with 429, a message
// with a "Too Many Requests" message to its connection, its handler not
// invoked.
type Throttle struct {
	Burst int     // requests the bucket holds
	Rate  float64 // requests per second added to it
}

// bucket is one route's token bucket, on the gateway's clock.
type bucket struct {
	limit Throttle

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newBucket(limit Throttle, now time.Time) *bucket {
	return &bucket{limit: limit, tokens: float64(limit.Burst), last: now}
}

// take takes one request's token at now, and reports whether there was one.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(b.limit.Burst), b.tokens+d.Seconds()*b.limit.Rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// allow reports whether a request of the route key may go on now: true
// for a route without a throttle.
func (g *Gateway) allow(key string) bool {
	b, ok := g.buckets[key]
	return !ok || b.take(g.cfg.Now())
}
