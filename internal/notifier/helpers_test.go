package notifier_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notifier"
)

// t0 is the fake clock's time in every test.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Responses of the fake management API, named by what API Gateway means by them.
const (
	ok        = "ok"        // 200
	gone      = "gone"      // 410 GoneException
	limited   = "limited"   // 429 LimitExceededException
	tooMany   = "toomany"   // 429 TooManyRequestsException (unmodelled)
	bare429   = "bare429"   // 429 without an error type
	tooLarge  = "toolarge"  // 413 PayloadTooLargeException
	forbidden = "forbidden" // 403 ForbiddenException
	broken    = "broken"    // 500
)

// gateway is an httptest.Server that answers POST /@connections/{id} and
// POST /{stage}/@connections/{id} as the API Gateway management API does.
type gateway struct {
	srv *httptest.Server
	rec *recorder

	mu      sync.Mutex
	scripts map[string][]string // connection ID -> responses to its successive posts; the last repeats; default ok
	posts   map[string][][]byte // connection ID -> bodies posted, in order
}

func newGateway(tb testing.TB, rec *recorder) *gateway {
	tb.Helper()
	g := &gateway{rec: rec, scripts: map[string][]string{}, posts: map[string][][]byte{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	tb.Cleanup(g.srv.Close)
	return g
}

// script sets the responses to id's successive posts.
func (g *gateway) script(id string, responses ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.scripts[id] = responses
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	_, id, found := strings.Cut(r.URL.Path, "/@connections/")
	prefix := strings.TrimSuffix(r.URL.Path, "/@connections/"+id)
	if !found || id == "" || strings.Count(prefix, "/") > 1 {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		apiError(w, http.StatusForbidden, "ForbiddenException", `{"message":"Missing Authentication Token"}`)
		return
	}
	body, _ := io.ReadAll(r.Body)

	g.mu.Lock()
	g.posts[id] = append(g.posts[id], body)
	response := ok
	if script := g.scripts[id]; len(script) > 0 {
		response = script[0]
		if len(script) > 1 {
			g.scripts[id] = script[1:]
		}
	}
	g.mu.Unlock()
	if g.rec != nil {
		g.rec.add("post " + id)
	}

	switch response {
	case ok:
		w.WriteHeader(http.StatusOK)
	case gone:
		apiError(w, http.StatusGone, "GoneException", `{"message":null}`)
	case limited:
		apiError(w, http.StatusTooManyRequests, "LimitExceededException", `{"message":"Rate exceeded"}`)
	case tooMany:
		apiError(w, http.StatusTooManyRequests, "TooManyRequestsException", `{"message":"Too Many Requests"}`)
	case bare429:
		w.WriteHeader(http.StatusTooManyRequests)
	case tooLarge:
		apiError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", `{"message":"Message too long"}`)
	case forbidden:
		apiError(w, http.StatusForbidden, "ForbiddenException", `{"message":"Forbidden"}`)
	default:
		apiError(w, http.StatusInternalServerError, "InternalServerErrorException", `{"message":"Internal server error"}`)
	}
}

func apiError(w http.ResponseWriter, status int, errorType, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", errorType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// postsTo returns the bodies posted to id.
func (g *gateway) postsTo(id string) [][]byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.posts[id])
}

// totalPosts counts posts to every connection.
func (g *gateway) totalPosts() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, p := range g.posts {
		n += len(p)
	}
	return n
}

// client returns the real SDK client, signing with static credentials and
// sending to the gateway under the given stage path ("" or "/prod").
func (g *gateway) client(stage string) *apigatewaymanagementapi.Client {
	return apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(g.srv.URL + stage),
		HTTPClient:   g.srv.Client(),
	})
}

// recorder keeps the order in which the fakes were called.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(event string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event)
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// fakeConns is a connection.Store in a map that counts its calls.
type fakeConns struct {
	rec *recorder

	mu        sync.Mutex
	rows      map[string]connection.Connection
	byUser    int                  // ByUser calls
	deleted   []string             // Delete calls, in order
	byUserErr error                // returned by ByUser when set
	welcomed  map[string]time.Time // ClaimWelcome's claims
	claimErr  error                // returned by ClaimWelcome when set
}

func newFakeConns(rec *recorder, conns ...connection.Connection) *fakeConns {
	f := &fakeConns{rec: rec, rows: map[string]connection.Connection{}}
	for _, c := range conns {
		f.rows[c.ID] = c
	}
	return f
}

func (f *fakeConns) Put(_ context.Context, c connection.Connection) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows[c.ID] = c
	return nil
}

func (f *fakeConns) Delete(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, id)
	delete(f.rows, id)
	return nil
}

func (f *fakeConns) Get(_ context.Context, id string) (connection.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, found := f.rows[id]
	if !found {
		return connection.Connection{}, connection.ErrNotFound
	}
	return c, nil
}

func (f *fakeConns) ByUser(_ context.Context, userID string) ([]connection.Connection, error) {
	if f.rec != nil {
		f.rec.add("byuser " + userID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byUser++
	if f.byUserErr != nil {
		return nil, f.byUserErr
	}
	out := []connection.Connection{}
	for _, c := range f.rows {
		if c.UserID == userID {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeConns) ClaimWelcome(_ context.Context, id string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch _, found := f.rows[id]; {
	case f.claimErr != nil:
		return f.claimErr
	case !found:
		return connection.ErrNotFound
	case !f.welcomed[id].IsZero():
		return connection.ErrWelcomed
	}
	if f.welcomed == nil {
		f.welcomed = map[string]time.Time{}
	}
	f.welcomed[id] = at
	return nil
}

func (f *fakeConns) ReleaseWelcome(_ context.Context, id string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.welcomed[id].Equal(at) {
		delete(f.welcomed, id)
	}
	return nil
}

func (f *fakeConns) Spend(context.Context, string, int, connection.Limit) (time.Duration, error) {
	return 0, errors.New("fakeConns: Spend is not used by the notifier")
}

func (f *fakeConns) calls() (byUser int, deleted []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byUser, slices.Clone(f.deleted)
}

// fakeHistory is a history.Store in a map that counts Add calls. Like the
// real stores, adding an ID the user already has changes nothing.
type fakeHistory struct {
	// Store is nil: the notifier only adds, and any other method panics,
	// whatever the interface grows.
	history.Store

	rec *recorder

	mu     sync.Mutex
	items  map[string]map[string]history.Item // user -> ID -> item
	adds   int
	failOn map[string]error // user -> error Add returns for that user
}

func newFakeHistory(rec *recorder) *fakeHistory {
	return &fakeHistory{rec: rec, items: map[string]map[string]history.Item{}, failOn: map[string]error{}}
}

func (f *fakeHistory) Add(_ context.Context, item history.Item) (history.Position, error) {
	if f.rec != nil {
		f.rec.add("add " + item.UserID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adds++
	if err := f.failOn[item.UserID]; err != nil {
		return 0, err
	}
	if f.items[item.UserID] == nil {
		f.items[item.UserID] = map[string]history.Item{}
	}
	if old, dup := f.items[item.UserID][item.Notification.ID]; dup {
		return old.Position, nil
	}
	item.Position = history.Position(len(f.items[item.UserID]) + 1)
	f.items[item.UserID][item.Notification.ID] = item
	return item.Position, nil
}

// of returns the user's items in position order.
func (f *fakeHistory) of(userID string) []history.Item {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []history.Item
	for _, it := range f.items[userID] {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b history.Item) int { return cmp.Compare(a.Position, b.Position) })
	return out
}

func (f *fakeHistory) addCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.adds
}

// sleeper records the waits a Notifier asks for, without waiting.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleeper) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// world is one notifier wired to a fake gateway and fake stores.
type world struct {
	rec   *recorder
	gw    *gateway
	conns *fakeConns
	hist  *fakeHistory
	sleep *sleeper
	n     *notifier.Notifier
}

// newWorld returns a world holding conns; opts' Now and Sleep are filled in.
func newWorld(tb testing.TB, opts notifier.Options, conns ...connection.Connection) *world {
	tb.Helper()
	w := &world{rec: &recorder{}, sleep: &sleeper{}}
	w.gw = newGateway(tb, w.rec)
	w.conns = newFakeConns(w.rec, conns...)
	w.hist = newFakeHistory(w.rec)
	opts.Now = func() time.Time { return t0 }
	opts.Sleep = w.sleep.sleep
	w.n = notifier.New(w.conns, w.hist, w.gw.client("/prod"), opts)
	return w
}

// conn returns a connection of user that connected age before t0.
func conn(id, user string, age time.Duration) connection.Connection {
	return connection.New(id, user, t0.Add(-age), "198.51.100.7", "test")
}

// decodePost decodes a posted body as a generic JSON object.
func decodePost(tb testing.TB, body []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatalf("posted body is not a JSON object: %v: %s", err, body)
	}
	return m
}

// readTestdata returns the contents of testdata/name.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func ctxOf(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// must fails tb on err.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
