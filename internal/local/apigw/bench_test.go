package apigw_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/local/apigw"
)

// post sends data to a connection through the management API with plain
// HTTP (the SDK's signing would dominate the measurement).
func post(tb testing.TB, client *http.Client, base, id string, data []byte) {
	resp, err := client.Post(base+"/@connections/"+url.PathEscape(id), "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		tb.Error(err)
		return
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Errorf("post to %s: %s", id, resp.Status)
	}
}

// BenchmarkFanOut posts one notification to each of 1,000 connected clients
// through the management API, 32 posts at a time, and waits until every
// client has it.
func BenchmarkFanOut(b *testing.B) {
	const clients, workers = 1000, 32
	h := newHarness(b, apigw.Config{})
	received := make(chan struct{}, clients)
	ids := make([]string, clients)
	for i := range ids {
		c, id := h.dial(b, nil)
		ids[i] = id
		go func() {
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					return
				}
				received <- struct{}{}
			}
		}()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	data := []byte(`{"id":"01JQ7Z9Y3V6M2K8W4T1R5N0XHC","type":"notification","timestamp":"2026-11-26T00:51:28.123Z","message":"Budget transfer 602 completed","data":{"transaction_id":"602"}}`)

	for b.Loop() {
		jobs := make(chan string)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for id := range jobs {
					post(b, client, h.srv.URL, id, data)
				}
			})
		}
		for _, id := range ids {
			jobs <- id
		}
		close(jobs)
		wg.Wait()
		for range clients {
			<-received
		}
	}
	b.ReportMetric(float64(clients*b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkRoundTrip measures the latency from a management API POST to
// the client having the message.
func BenchmarkRoundTrip(b *testing.B) {
	h := newHarness(b, apigw.Config{})
	c, id := h.dial(b, nil)
	arrived := make(chan time.Time)
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
			arrived <- time.Now()
		}
	}()
	client := &http.Client{}
	data := []byte(`{"type":"oracle_upload_progress","transaction_id":"602","step":"Upload to UCM","step_number":2,"total_steps":5}`)
	var latencies []time.Duration
	for b.Loop() {
		sent := time.Now()
		post(b, client, h.srv.URL, id, data)
		latencies = append(latencies, (<-arrived).Sub(sent))
	}
	slices.Sort(latencies)
	percentile := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds())
	}
	b.ReportMetric(percentile(0.50), "p50-µs")
	b.ReportMetric(percentile(0.99), "p99-µs")
}
