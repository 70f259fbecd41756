package lambdatest_test

// The measuring instruments of bench_test.go: the emulator at log level
// info (its INIT REPORT line is the cold start), the REPORT lines of each
// invocation, a counting reverse proxy in front of moto_server and a fake
// API Gateway management API.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/testing/lambdatest"
)

// verboseEmulator points RIE, for the rest of b, at a script that runs the
// real aws-lambda-rie with --log-level info instead of the error level that
// lambdatest.Start asks for: only at info does the emulator print
// "INIT REPORT(durationMs: ...)", its measure of the init phase (from the
// start of the bootstrap process to the runtime's first request for an
// event), as Lambda's Init Duration is. The "Init Duration" of the REPORT
// line cannot stand in for it: this emulator times its asynchronous
// sandbox.Init call there, which returns at once (0.0x ms).
//
// Without RIE it does nothing, and the benchmark skips (fails under CI) as
// the tests of the package do.
func verboseEmulator(b *testing.B) {
	b.Helper()
	rie := os.Getenv(lambdatest.EnvRIE)
	if rie == "" {
		return
	}
	abs, err := filepath.Abs(rie)
	if err != nil {
		b.Fatal(err)
	}
	// POSIX sh: copy the arguments, putting info after --log-level.
	script := "#!/bin/sh\nprev=\nfor a do\n  shift\n" +
		"  if [ \"$prev\" = --log-level ]; then set -- \"$@\" info; else set -- \"$@\" \"$a\"; fi\n" +
		"  prev=$a\ndone\nexec " + strconv.Quote(abs) + " \"$@\"\n"
	path := filepath.Join(b.TempDir(), "aws-lambda-rie")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		b.Fatal(err)
	}
	b.Setenv(lambdatest.EnvRIE, path)
}

var (
	initReport   = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	invokeReport = regexp.MustCompile(`(?m)^REPORT RequestId: \S+\t(?:Init Duration: [0-9.]+ ms\t)?Duration: ([0-9.]+) ms`)
)

// reports waits until the output of f holds n REPORT lines and returns the
// init duration and the invocation durations they give, in ms. It fails b
// if the emulator printed no INIT REPORT (the emulator is not at log level
// info, or the runtime never asked for an event).
func reports(b *testing.B, f *lambdatest.Function, n int) (initMS float64, durations []float64) {
	b.Helper()
	// The emulator prints a REPORT before it answers, but its output
	// reaches the buffer through a pipe: wait for it. The deadline only
	// guards against a hang.
	var out string
	for deadline := time.Now().Add(patience); ; time.Sleep(5 * time.Millisecond) {
		out = f.Output()
		if len(invokeReport.FindAllString(out, -1)) >= n || time.Now().After(deadline) {
			break
		}
	}
	for _, m := range invokeReport.FindAllStringSubmatch(out, -1) {
		durations = append(durations, number(b, m[1]))
	}
	if len(durations) != n {
		b.Fatalf("the emulator printed %d REPORT lines, want %d:\n%s", len(durations), n, out)
	}
	m := initReport.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("the emulator printed no INIT REPORT (is it at log level info?):\n%s", out)
	}
	return number(b, m[1]), durations
}

func number(b *testing.B, s string) float64 {
	b.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		b.Fatalf("%q in the emulator's report: %v", s, err)
	}
	return v
}

// mean returns the mean of vs, 0 for none.
func mean(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	sum := 0.0
	for _, v := range vs {
		sum += v
	}
	return sum / float64(len(vs))
}

// countingProxy is a reverse proxy in front of moto_server that counts the
// AWS API calls going through it by their X-Amz-Target header
// ("DynamoDB_20120810.Query", "AmazonSQS.SendMessage", ...): every request
// the SDK sends, retries included, as AWS would bill them.
type countingProxy struct {
	url string // what AWS_ENDPOINT_URL of the functions names

	mu    sync.Mutex
	calls map[string]int
}

// newCountingProxy starts a counting proxy to moto_server, stopped when b
// ends. It skips without moto_server, or fails under CI, as the sandbox does.
func newCountingProxy(b *testing.B) *countingProxy {
	b.Helper()
	target, err := url.Parse(awstest.Endpoint(b))
	if err != nil {
		b.Fatal(err)
	}
	p := &countingProxy{calls: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		if op == "" { // a query-protocol or REST call: name it by its path
			op = r.Method + " " + r.URL.Path
		}
		p.mu.Lock()
		p.calls[op]++
		p.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// reset returns the calls counted since the last reset and starts again.
func (p *countingProxy) reset() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.calls
	p.calls = map[string]int{}
	return c
}

// perOp returns the calls of the service whose targets start with prefix
// ("DynamoDB_"), per operation of n, and a line naming each call.
func perOp(calls map[string]int, prefix string, n int) (float64, string) {
	total := 0
	var names []string
	for op, c := range calls {
		if !strings.HasPrefix(op, prefix) {
			continue
		}
		total += c
		names = append(names, fmt.Sprintf("%s %.3g", op[strings.IndexByte(op, '.')+1:], float64(c)/float64(n)))
	}
	slices.Sort(names)
	return float64(total) / float64(n), strings.Join(names, ", ")
}

// fakeManagementAPI answers every PostToConnection of the API Gateway
// management API at <URL>/<stage> with 200, as for a live client, and
// counts them.
type fakeManagementAPI struct {
	endpoint string // MANAGEMENT_ENDPOINT

	mu    sync.Mutex
	posts int
}

func newFakeManagementAPI(b *testing.B) *fakeManagementAPI {
	b.Helper()
	f := &fakeManagementAPI{}
	prefix := "/" + stageName + "/@connections/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) {
			http.Error(w, `{"message":"not a PostToConnection"}`, http.StatusNotFound)
			return
		}
		f.mu.Lock()
		f.posts++
		f.mu.Unlock()
	}))
	b.Cleanup(srv.Close)
	f.endpoint = srv.URL + "/" + stageName
	return f
}

// reset returns the posts counted since the last reset and starts again.
func (f *fakeManagementAPI) reset() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.posts
	f.posts = 0
	return n
}
