// Package lambdatest runs a Lambda function the way Lambda runs it: the
// function's main package is built into a bootstrap binary, which runs under
// the AWS Lambda Runtime Interface Emulator (aws-lambda-rie) and talks to it
// through the Lambda Runtime API; each invocation is an HTTP POST to the
// emulator, as `sam local invoke` and the Lambda service do.
//
// Tests that use it prove what handler-level tests cannot: that main reads
// its environment, builds its clients, starts the runtime loop, and survives
// several invocations in one process.
//
// The emulator's path is taken from the environment variable RIE (`make test`
// sets it to .bin/aws-lambda-rie, which `make tools` installs). Without it,
// or on a system other than Linux, Start skips the test, except under CI
// (CI set), where it fails.
package lambdatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

// EnvRIE names the environment variable holding the path of aws-lambda-rie.
const EnvRIE = "RIE"

// DefaultTimeout is the function timeout (AWS_LAMBDA_FUNCTION_TIMEOUT) that
// Start sets unless env sets one: long enough for any test, short enough
// that a hung handler fails the test instead of stalling it.
const DefaultTimeout = 30 * time.Second

// startTimeout bounds how long Start waits for the emulator to listen.
const startTimeout = 10 * time.Second

// Build compiles the main package pkg, as Lambda's provided.al2023 runtime
// expects it but for the host (tags lambda.norpc, -trimpath, static), into
// a file named bootstrap in a temporary directory of tb, and returns its
// path. pkg is a package as the go command takes it: an import path, a
// directory relative to the test's working directory ("./testdata/echo"),
// or the bare name of a directory under functions/ ("connect" for
// ./functions/connect of this module).
//
// A host build is of use only under the emulator, so Build skips tb as
// Start does when the emulator is unavailable (and fails under CI).
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	emulator(tb)
	goBin, err := goCommand()
	if err != nil {
		tb.Fatalf("lambdatest: build %s: %v", pkg, err)
	}
	if !strings.ContainsAny(pkg, "/.") {
		mod, err := modulePath(goBin)
		if err != nil {
			tb.Fatalf("lambdatest: build %s: %v", pkg, err)
		}
		pkg = mod + "/functions/" + pkg
	}
	out := filepath.Join(tb.TempDir(), "bootstrap")
	cmd := exec.Command(goBin, "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("lambdatest: go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// goCommand finds the go command: `go test` puts its toolchain's bin
// directory first in PATH.
func goCommand() (string, error) { return exec.LookPath("go") }

// modulePath returns the path of the main module.
func modulePath(goBin string) (string, error) {
	out, err := exec.Command(goBin, "list", "-m", "-f", "{{.Path}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Function is a bootstrap running under the emulator. Its methods are safe
// for concurrent use; invocations run one at a time, as in one Lambda
// execution environment.
type Function struct {
	url    string // invocation URL
	client *http.Client
	out    *bgtest.Buffer
	mu     sync.Mutex // serialises invocations: the emulator takes one at a time
}

// Start runs bootstrap under the emulator with exactly the environment env
// (nothing is inherited from the test process, so no credentials leak into
// the function), plus what the emulator adds as Lambda does
// (AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_NAME, ...),
// AWS_LAMBDA_FUNCTION_TIMEOUT (DefaultTimeout unless env sets it) and
// AWS_EC2_METADATA_DISABLED=true unless env sets it (a function without
// credentials must not probe the instance metadata address). The emulator
// and the function stop when the test ends; if the test failed, their
// output is logged.
//
// Like Lambda, the emulator starts the bootstrap at the first invocation.
func Start(tb testing.TB, bootstrap string, env map[string]string) *Function {
	tb.Helper()
	rie := emulator(tb)
	if _, err := os.Stat(bootstrap); err != nil {
		tb.Fatalf("lambdatest: bootstrap: %v", err)
	}
	vars := map[string]string{
		"AWS_LAMBDA_FUNCTION_TIMEOUT": strconv.Itoa(int(DefaultTimeout / time.Second)),
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	for k, v := range env {
		vars[k] = v
	}
	environ := make([]string, 0, len(vars))
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	sort.Strings(environ)
	timeout, err := strconv.Atoi(vars["AWS_LAMBDA_FUNCTION_TIMEOUT"])
	if err != nil || timeout <= 0 {
		tb.Fatalf("lambdatest: AWS_LAMBDA_FUNCTION_TIMEOUT %q is not a number of seconds", vars["AWS_LAMBDA_FUNCTION_TIMEOUT"])
	}

	// A free port can be taken between choosing it and the emulator
	// binding it: try again with new ports.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		f, err := start(tb, rie, bootstrap, environ)
		if err == nil {
			f.client = &http.Client{Timeout: time.Duration(timeout)*time.Second + 30*time.Second}
			return f
		}
		lastErr = err
	}
	tb.Fatalf("lambdatest: start %s: %v", bootstrap, lastErr)
	return nil
}

// emulator returns the path of aws-lambda-rie, or skips (fails under CI).
func emulator(tb testing.TB) string {
	tb.Helper()
	why := ""
	path := os.Getenv(EnvRIE)
	switch {
	case runtime.GOOS != "linux":
		why = "aws-lambda-rie runs on Linux only"
	case path == "":
		why = EnvRIE + " is not set: run the tests with `make test`, which sets it to .bin/aws-lambda-rie"
	default:
		if _, err := os.Stat(path); err != nil {
			why = fmt.Sprintf("%s=%s: %v (run `make tools`)", EnvRIE, path, err)
		}
	}
	if why == "" {
		return path
	}
	if os.Getenv("CI") != "" {
		tb.Fatal("lambdatest: " + why)
	}
	tb.Skip("lambdatest: " + why)
	return ""
}

func start(tb testing.TB, rie, bootstrap string, environ []string) (*Function, error) {
	tb.Helper()
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(rie, "--log-level", "error",
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = environ
	out := &bgtest.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", rie, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		killProcessTree(cmd.Process.Pid)
		<-exited
	}

	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("aws-lambda-rie exited: %s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("aws-lambda-rie did not listen on %s within %v: %s", addr, startTimeout, out.String())
		}
	}
	tb.Cleanup(func() {
		stop()
		if tb.Failed() {
			tb.Logf("lambdatest: output of %s:\n%s", bootstrap, out.String())
		}
	})
	return &Function{url: "http://" + addr + "/2015-03-31/functions/function/invocations", out: out}, nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Invoke invokes the function with payload (an event as JSON) and returns
// its response payload. A handler that returns an error still answers: the
// payload is then Lambda's error object, {"errorMessage": ..., "errorType":
// ...}; use InvokeResult to tell it apart. Invoke fails the test if the
// invocation itself fails (the emulator cannot be reached, the function
// crashed or timed out).
func (f *Function) Invoke(tb testing.TB, payload []byte) []byte {
	tb.Helper()
	res, err := f.InvokeResult(context.Background(), payload)
	if err != nil {
		tb.Fatalf("lambdatest: invoke: %v", err)
	}
	return res.Payload
}

// Result is the outcome of one invocation.
type Result struct {
	Payload []byte // the handler's response, or Lambda's error object
	Status  int    // the emulator's HTTP status: 200 when the runtime answered
}

// ErrInvoke is returned by InvokeResult when the emulator did not return
// the function's answer: it crashed, timed out or refused the request.
var ErrInvoke = errors.New("lambdatest: invocation failed")

// InvokeResult invokes the function with payload and returns what the
// emulator answered. It returns an error wrapping ErrInvoke if that is not
// the function's answer (HTTP status other than 200, or a timeout).
func (f *Function) InvokeResult(ctx context.Context, payload []byte) (Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(payload))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrInvoke, err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrInvoke, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	res := Result{Payload: body, Status: resp.StatusCode}
	if err != nil {
		return res, fmt.Errorf("%w: read response: %w", ErrInvoke, err)
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("%w: HTTP %d: %s", ErrInvoke, resp.StatusCode, body)
	}
	if bytes.HasPrefix(body, []byte("Task timed out after")) {
		return res, fmt.Errorf("%w: %s", ErrInvoke, body)
	}
	return res, nil
}

// Output returns everything the emulator and the function have written to
// stdout and stderr so far: the function's logs, and the emulator's START,
// END and REPORT lines.
func (f *Function) Output() string { return f.out.String() }
