package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

// TestOneOrderForEveryTab sends twelve notifications back to back to one
// user, all at once (SQS standard queues keep no order), while one tab is
// open. The order of the cursors the open tab received is the order a tab
// that connects afterwards gets from resume, and the reverse of what history
// shows; resume after the sixth cursor returns exactly the last six. It runs
// on the stack's in-memory stores and on DynamoDB (moto_server, with one
// notify consumer).
func TestOneOrderForEveryTab(t *testing.T) {
	stacks := []struct {
		name  string
		start func(t *testing.T) *localStack
	}{
		{name: "memory", start: func(t *testing.T) *localStack { return startStack(t) }},
		// One notify consumer on moto: moto_server checks a transaction's
		// conditions and then writes without a lock, so two users of one
		// counter at once can both win there (DynamoDB's transactions are
		// atomic). Concurrent adds are what the memory run and the history
		// store's RunConcurrent test.
		{name: "dynamodb", start: func(t *testing.T) *localStack {
			env := append(onAWSAPI(awstest.Endpoint(t), awstest.UniqueName(t, "e2e")+"-"), "LOCAL_MAX_CONCURRENCY=1")
			return startStack(t, env...)
		}},
	}
	for _, st := range stacks {
		t.Run(st.name, func(t *testing.T) {
			s := st.start(t)
			oneOrder(t, s, "order-"+st.name)
		})
	}
}

// note is what a tab keeps of a notification.
type note struct{ ID, Cursor, Message string }

func oneOrder(t *testing.T, s *localStack, user string) {
	const count = 12
	open := s.dial(t, user)
	if m := open.next(); m["type"] != "connection_established" {
		t.Fatalf("first message = %v; want connection_established", m)
	}

	q := s.queues(t)
	client := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(q.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	var wg sync.WaitGroup
	for i := range count {
		wg.Go(func() {
			body := fmt.Sprintf(`{"user_id":%q,"message":"n%02d"}`, user, i)
			if _, err := client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(q.Notifications),
				MessageBody: aws.String(body)}); err != nil {
				t.Errorf("send %d: %v", i, err)
			}
		})
	}
	wg.Wait()

	// The open tab: every notification once, ordered by cursor.
	var live []note
	for len(live) < count {
		m := open.next()
		if m["type"] != "notification" || m["replayed"] != nil {
			t.Fatalf("open tab got %v; want live notifications", m)
		}
		live = append(live, note{ID: fmt.Sprint(m["id"]), Cursor: fmt.Sprint(m["cursor"]), Message: fmt.Sprint(m["message"])})
	}
	position := func(n note) int {
		p, err := strconv.Atoi(strings.TrimPrefix(n.Cursor, "c"))
		if err != nil || !strings.HasPrefix(n.Cursor, "c") {
			t.Fatalf("cursor %q of %s is not one the server makes", n.Cursor, n.ID)
		}
		return p
	}
	arrival := make([]string, len(live))
	for i, n := range live {
		arrival[i] = n.Cursor
	}
	t.Logf("open tab received cursors in this order: %v", arrival)
	slices.SortFunc(live, func(a, b note) int { return position(a) - position(b) })
	for i, n := range live {
		if position(n) != i+1 {
			t.Fatalf("live cursors %v; want c1..c%d, each once", live, count)
		}
	}

	// A tab that connects now resumes from the start, then reads history.
	late := s.dial(t, user)
	if m := late.next(); m["type"] != "connection_established" {
		t.Fatalf("first message = %v; want connection_established", m)
	}
	resume := func(after string) ([]note, map[string]any) {
		late.send(map[string]any{"type": "resume", "after": after})
		var got []note
		for {
			m := late.next()
			if m["type"] == "resume_complete" {
				return got, m
			}
			if m["replayed"] != true {
				t.Fatalf("during resume got %v; want replayed notifications", m)
			}
			got = append(got, note{ID: fmt.Sprint(m["id"]), Cursor: fmt.Sprint(m["cursor"]), Message: fmt.Sprint(m["message"])})
		}
	}
	replayed, done := resume("")
	if !slices.Equal(replayed, live) {
		t.Errorf("resume replayed\n%v\nwant the open tab's cursor order\n%v", replayed, live)
	}
	if done["count"] != float64(count) || done["has_more"] != false || done["cursor"] != live[count-1].Cursor {
		t.Errorf("resume_complete = %v; want count %d, cursor %s", done, count, live[count-1].Cursor)
	}
	rest, done := resume(live[5].Cursor)
	if !slices.Equal(rest, live[6:]) || done["cursor"] != live[count-1].Cursor {
		t.Errorf("resume after %s replayed\n%v\nwant\n%v", live[5].Cursor, rest, live[6:])
	}

	late.send(map[string]any{"type": "history", "limit": 100})
	m := late.next()
	items, _ := m["items"].([]any)
	var history []note
	for _, it := range items {
		it := it.(map[string]any)
		history = append(history, note{ID: fmt.Sprint(it["id"]), Cursor: fmt.Sprint(it["cursor"]), Message: fmt.Sprint(it["message"])})
	}
	slices.Reverse(history)
	if !slices.Equal(history, live) {
		t.Errorf("history (oldest first)\n%v\nwant the open tab's cursor order\n%v", history, live)
	}
}
