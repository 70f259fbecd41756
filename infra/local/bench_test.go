package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/coder/websocket"

	"github.com/finance/fbdi-notify/internal/local/devtoken"
)

// benchStack runs the local stack in this process on a free port, with the
// embedded stores and the same wiring as `make run`.
func benchStack(b testing.TB) (*system, *sqs.Client) {
	b.Helper()
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{"LOCAL_PORT": "0", "LOG_LEVEL": "error", "LOCAL_METRICS": "off"}[k]
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newStack(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("stack stopped with %v", err)
		}
	})
	client := sqs.New(sqs.Options{Region: "us-east-1", Credentials: aws.AnonymousCredentials{},
		BaseEndpoint: aws.String(s.base)})
	return s, client
}

// benchClient connects a WebSocket client for user and reads its
// connection_established message.
func benchClient(b testing.TB, s *system, user string) *websocket.Conn {
	b.Helper()
	tok, err := devtoken.Mint([]byte(s.cfg.JWTSecret), user, time.Now(), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+s.base[len("http"):], &websocket.DialOptions{Subprotocols: []string{tok},
		HTTPClient: &http.Client{Transport: &http.Transport{}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.CloseNow() })
	if _, _, err := c.Read(ctx); err != nil { // connection_established
		b.Fatal(err)
	}
	return c
}

func send(b *testing.B, client *sqs.Client, url, body string) {
	b.Helper()
	if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQueueToWebSocket measures the latency from SendMessage on the
// notification queue (the AWS SDK, over HTTP) to the WebSocket client having
// the notification: intake, event-source loop, notify handler, history write,
// connection lookup, management API post, WebSocket frame.
func BenchmarkQueueToWebSocket(b *testing.B) {
	s, client := benchStack(b)
	c := benchClient(b, s, "bench-latency")
	url := s.queues.URL("notifications")
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		send(b, client, url, `{"user_id":"bench-latency","message":"n`+strconv.Itoa(i)+`"}`)
		if _, _, err := c.Read(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds()), "p99-µs")
}

// BenchmarkFanOut1000 measures deliveries per second of one notification
// to 1,000 connections of one user, from SendMessage to the last client
// having read it, and the process's CPU time per delivery (user and system,
// all goroutines: stack and clients), which other load on the machine
// affects less than the rate.
func BenchmarkFanOut1000(b *testing.B) {
	const conns = 1000
	s, client := benchStack(b)
	var received atomic.Int64
	round := make(chan struct{}, 1)
	var wg sync.WaitGroup
	b.Cleanup(wg.Wait) // runs after the clients' own cleanups close them
	for range conns {
		c := benchClient(b, s, "bench-fanout")
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 512)
			for {
				var err error
				if buf, err = readMessage(c, buf[:0]); err != nil {
					return
				}
				if received.Add(1)%conns == 0 {
					round <- struct{}{}
				}
			}
		}()
	}
	url := s.queues.URL("notifications")
	b.ResetTimer()
	cpu := processCPU(b)
	start := time.Now()
	for i := range b.N {
		send(b, client, url, fmt.Sprintf(`{"user_id":"bench-fanout","message":"n%d"}`, i))
		select {
		case <-round:
		case <-time.After(time.Minute):
			b.Fatalf("round %d: %d of %d delivered", i, received.Load()%conns, conns)
		}
	}
	elapsed := time.Since(start)
	cpu = processCPU(b) - cpu
	b.StopTimer()
	b.ReportMetric(float64(conns*b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(conns*b.N), "cpu-ns/delivery")
}

// readMessage reads the next message from c, appending it to buf, so that a
// client reuses one buffer instead of allocating each message as Read does.
func readMessage(c *websocket.Conn, buf []byte) ([]byte, error) {
	_, r, err := c.Reader(context.Background())
	if err != nil {
		return buf, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// processCPU returns the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
