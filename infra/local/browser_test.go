package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

// chromiumPath is the Debian chromium the browser tests drive.
const chromiumPath = "/usr/bin/chromium"

// webDir is the repository's web/ directory, seen from infra/local.
const webDir = "../../web"

// TestBrowserPage runs the real-browser tests of the test page
// (web/test/*.test.mjs, node:test + playwright-core + Debian chromium)
// against a freshly started local stack.
func TestBrowserPage(t *testing.T) {
	node := browserPrerequisites(t)
	runPageTests(t, node, startStack(t))
}

// TestBrowserPageOnAWSAPI: with the queues on an AWS API (moto_server), the
// page's Send sample goes through the stack's POST /dev/send (a browser
// cannot call that API unsigned; the stack's own port refuses SQS calls
// then) and the upload completes.
func TestBrowserPageOnAWSAPI(t *testing.T) {
	node := browserPrerequisites(t)
	s := startStack(t, onAWSAPI(awstest.Endpoint(t), awstest.UniqueName(t, "page")+"-")...)
	runPageTests(t, node, s, "test/send.test.mjs")
}

// runPageTests runs the page's node tests (the files named, else every one
// in web/test) against the stack s.
func runPageTests(t *testing.T, node string, s *localStack, files ...string) {
	// A guard against a hung browser; the node tests bound each wait themselves.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if len(files) == 0 {
		files = []string{"test/"}
	}
	cmd := exec.CommandContext(ctx, node, append([]string{"--test"}, files...)...)
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "STACK_URL="+s.URL, "SCREENSHOT=/tmp/page.png")
	cmd.WaitDelay = 10 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			t.Log(sc.Text())
		}
		io.Copy(io.Discard, pr) // a line longer than the buffer must not block node
	}()
	err := cmd.Wait()
	pw.Close()
	wg.Wait()
	if err != nil {
		t.Fatalf("node --test %s (in web/): %v\nstack logs:\n%s", strings.Join(files, " "), err, s.logs)
	}
}

// browserPrerequisites returns the path of node, after checking that
// chromium and playwright-core are installed. Outside CI a missing one skips
// the test; under CI (env CI set) it fails it, so the browser tests are
// never silently skipped there.
func browserPrerequisites(t *testing.T) string {
	t.Helper()
	var missing []string
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node (not on PATH)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, chromiumPath)
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing = append(missing, "web/node_modules/playwright-core (run npm ci in web/)")
	}
	if len(missing) == 0 {
		return node
	}
	msg := "browser tests need " + strings.Join(missing, ", ")
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
