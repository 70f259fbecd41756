package route_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

var (
	t0         = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	errStore   = errors.New("ProvisionedThroughputExceededException: secret internal detail")
	testSecret = []byte("test-secret-shared-with-the-web-app")
)

// The connection in the testdata events.
const testConnID = "R1kmxc2VNjMCFIA="

// event reads an API Gateway WebSocket event from testdata.
func event(tb testing.TB, name string) events.APIGatewayWebsocketProxyRequest {
	tb.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	var req events.APIGatewayWebsocketProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return req
}

// logBuffer returns a JSON logger at debug level and what it has written.
func logBuffer() (*slog.Logger, *bgtest.Buffer) {
	var buf bgtest.Buffer
	return slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// fakeConns is a connection.Store in a map that records writes. When err is
// set every method fails with it.
type fakeConns struct {
	mu      sync.Mutex
	rows    map[string]connection.Connection
	puts    []connection.Connection
	deletes []string
	gets    []string
	err     error
}

func newFakeConns(conns ...connection.Connection) *fakeConns {
	f := &fakeConns{rows: map[string]connection.Connection{}}
	for _, c := range conns {
		f.rows[c.ID] = c
	}
	return f
}

func (f *fakeConns) Put(_ context.Context, c connection.Connection) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts = append(f.puts, c)
	if f.err != nil {
		return f.err
	}
	f.rows[c.ID] = c
	return nil
}

func (f *fakeConns) Delete(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, id)
	if f.err != nil {
		return f.err
	}
	delete(f.rows, id)
	return nil
}

func (f *fakeConns) Get(_ context.Context, id string) (connection.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, id)
	if f.err != nil {
		return connection.Connection{}, f.err
	}
	c, ok := f.rows[id]
	if !ok {
		return connection.Connection{}, connection.ErrNotFound
	}
	return c, nil
}

func (f *fakeConns) ByUser(context.Context, string) ([]connection.Connection, error) {
	return nil, errors.New("fakeConns: ByUser is not used by socket")
}

func (f *fakeConns) ClaimWelcome(context.Context, string, time.Time) error {
	return errors.New("fakeConns: ClaimWelcome is not used by the routes")
}

func (f *fakeConns) ReleaseWelcome(context.Context, string, time.Time) error {
	return errors.New("fakeConns: ReleaseWelcome is not used by the routes")
}

// Spend never limits: the rate limit's tests use a connection.MemoryStore.
// It fails like the other methods when err is set.
func (f *fakeConns) Spend(context.Context, string, int, connection.Limit) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return 0, f.err
}

// writes returns how many Put and Delete calls the store saw.
func (f *fakeConns) writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.puts) + len(f.deletes)
}

// fakeHistory is a history.MemoryStore, whose clock is t0, that records
// which users and limits it is asked for and can be made to fail.
type fakeHistory struct {
	*history.MemoryStore
	users   []string         // every userID passed in, in order
	limits  []int            // every limit passed in
	filters []history.Filter // every filter passed in
	err     error            // when set, every method fails with it
}

func newFakeHistory() *fakeHistory {
	return &fakeHistory{MemoryStore: history.NewMemoryStore(func() time.Time { return t0 })}
}

// add stores count notifications for userID, one a second from `from`, the
// first `read` of them read, and returns their IDs, oldest first.
func (f *fakeHistory) add(userID string, count, read int, from time.Time) []string {
	var ids []string
	for i := range count {
		n := notification.General("note", map[string]any{"n": float64(i)})
		n.Stamp(from.Add(time.Duration(i) * time.Second))
		item := history.Item{UserID: userID, Notification: n, Read: i < read, ExpiresAt: from.Add(history.DefaultRetention)}
		if _, err := f.MemoryStore.Add(context.Background(), item); err != nil {
			panic(err)
		}
		ids = append(ids, n.ID)
	}
	return ids
}

func (f *fakeHistory) called(userID string, limit int) error {
	f.users = append(f.users, userID)
	if limit != 0 {
		f.limits = append(f.limits, limit)
	}
	return f.err
}

func (f *fakeHistory) Add(context.Context, history.Item) (history.Position, error) {
	return 0, errors.New("fakeHistory: Add is not used by socket")
}

func (f *fakeHistory) After(ctx context.Context, userID string, after history.Position, fl history.Filter, limit int) (history.Page, error) {
	if err := f.called(userID, limit); err != nil {
		return history.Page{}, err
	}
	f.filters = append(f.filters, fl)
	return f.MemoryStore.After(ctx, userID, after, fl, limit)
}

func (f *fakeHistory) Before(ctx context.Context, userID string, before history.Position, fl history.Filter, limit int) (history.Page, error) {
	if err := f.called(userID, limit); err != nil {
		return history.Page{}, err
	}
	f.filters = append(f.filters, fl)
	return f.MemoryStore.Before(ctx, userID, before, fl, limit)
}

func (f *fakeHistory) MarkCategoryRead(ctx context.Context, userID, category string) error {
	if err := f.called(userID, 0); err != nil {
		return err
	}
	return f.MemoryStore.MarkCategoryRead(ctx, userID, category)
}

func (f *fakeHistory) Archive(ctx context.Context, userID string, ids []string) error {
	if err := f.called(userID, 0); err != nil {
		return err
	}
	return f.MemoryStore.Archive(ctx, userID, ids)
}

func (f *fakeHistory) Position(ctx context.Context, userID, id string) (history.Position, error) {
	if err := f.called(userID, 0); err != nil {
		return 0, err
	}
	return f.MemoryStore.Position(ctx, userID, id)
}

func (f *fakeHistory) MarkRead(ctx context.Context, userID string, ids []string) error {
	if err := f.called(userID, 0); err != nil {
		return err
	}
	return f.MemoryStore.MarkRead(ctx, userID, ids)
}

func (f *fakeHistory) MarkAllRead(ctx context.Context, userID string) error {
	if err := f.called(userID, 0); err != nil {
		return err
	}
	return f.MemoryStore.MarkAllRead(ctx, userID)
}

func (f *fakeHistory) UnreadCount(ctx context.Context, userID string) (int, error) {
	if err := f.called(userID, 0); err != nil {
		return 0, err
	}
	return f.MemoryStore.UnreadCount(ctx, userID)
}

// unread counts userID's unread items without recording a call or failing.
func (f *fakeHistory) unread(userID string) int {
	n, _ := f.MemoryStore.UnreadCount(context.Background(), userID)
	return n
}

// fakePoster records posts; fail, when set, decides the error of post number
// i (0-based) to a connection.
type fakePoster struct {
	mu    sync.Mutex
	posts [][]byte
	to    []string
	fail  func(i int) error
}

func (p *fakePoster) PostTo(_ context.Context, connectionID string, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		if err := p.fail(len(p.to)); err != nil {
			p.to = append(p.to, connectionID)
			return err
		}
	}
	p.to = append(p.to, connectionID)
	p.posts = append(p.posts, data)
	return nil
}
