package lambdaenv_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/testing/logtest"
)

// env returns a getenv reading m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// problems returns the lines of err: one problem each.
func problems(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestEnvAWS(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantErr    []string // the variables the problems name, in order
		wantRegion string
		wantEP     string
	}{
		{name: "lambda environment", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID",
			"AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN"}, wantRegion: "eu-west-1"},
		{name: "default region and endpoint", env: map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a",
			"AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, wantRegion: "us-east-1", wantEP: "http://127.0.0.1:5000"},
		{name: "no region", env: map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, wantErr: []string{"AWS_REGION"}},
		{name: "no credentials", env: map[string]string{"AWS_REGION": "eu-west-1"}, wantErr: []string{"AWS_ACCESS_KEY_ID"}},
		{name: "key without its id", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI",
			"AWS_SESSION_TOKEN": "FwoGZXIvYXdz"}, wantErr: []string{"AWS_ACCESS_KEY_ID"}},
		{name: "nothing", env: nil, wantErr: []string{"AWS_REGION", "AWS_ACCESS_KEY_ID"}},
		{name: "endpoint not a URL", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID",
			"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI", "AWS_ENDPOINT_URL": "127.0.0.1:5000"}, wantErr: []string{"AWS_ENDPOINT_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := lambdaenv.New(env(tt.env))
			cfg := e.AWS()
			got := problems(e.Err())
			if len(got) != len(tt.wantErr) {
				t.Fatalf("problems %q; want one naming each of %q", got, tt.wantErr)
			}
			for i, name := range tt.wantErr {
				if !strings.HasPrefix(got[i], name) {
					t.Errorf("problem %q; want one naming %s", got[i], name)
				}
			}
			if tt.wantErr != nil {
				for _, secret := range []string{tt.env["AWS_SECRET_ACCESS_KEY"], tt.env["AWS_SESSION_TOKEN"]} {
					if secret != "" && strings.Contains(e.Err().Error(), secret) {
						t.Errorf("the error quotes a secret: %v", e.Err())
					}
				}
				return
			}
			if cfg.Region != tt.wantRegion {
				t.Errorf("region = %q; want %q", cfg.Region, tt.wantRegion)
			}
			if got := ""; cfg.BaseEndpoint != nil {
				got = *cfg.BaseEndpoint
				if got != tt.wantEP {
					t.Errorf("endpoint = %q; want %q", got, tt.wantEP)
				}
			} else if tt.wantEP != "" {
				t.Errorf("endpoint unset; want %q", tt.wantEP)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != tt.env["AWS_ACCESS_KEY_ID"] || creds.SessionToken != tt.env["AWS_SESSION_TOKEN"] {
				t.Fatalf("credentials = %+v, %v", creds, err)
			}
		})
	}
}

func TestEnvDuration(t *testing.T) {
	const def = 10 * time.Second
	tests := []struct {
		name    string
		value   string        // of POLL; "" means unset
		want    time.Duration // also when wantErr: a bad value gives the default
		wantErr bool
	}{
		{name: "unset gives the default", want: def},
		{name: "set", value: "1m30s", want: 90 * time.Second},
		{name: "zero is a value, not unset", value: "0s", want: 0},
		{name: "no unit", value: "10", want: def, wantErr: true},
		{name: "not a duration", value: "soon", want: def, wantErr: true},
		{name: "negative", value: "-5s", want: def, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := lambdaenv.New(env(map[string]string{"POLL": tt.value}))
			got, err := e.Duration("POLL", def), e.Err()
			if tt.wantErr {
				if err == nil || !strings.HasPrefix(err.Error(), "POLL ") || got != tt.want {
					t.Fatalf("Duration() = %v, %v; want %v and a problem naming POLL", got, err, tt.want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Duration() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestEnvInt(t *testing.T) {
	const def, least = 7, 1
	tests := []struct {
		name    string
		value   string // of N; "" means unset
		want    int    // also when wantErr: a bad value gives the default
		wantErr bool
	}{
		{name: "unset gives the default", want: def},
		{name: "set", value: "12", want: 12},
		{name: "the least is a value", value: "1", want: 1},
		{name: "below the least", value: "0", want: def, wantErr: true},
		{name: "not a number", value: "many", want: def, wantErr: true},
		{name: "a fraction", value: "1.5", want: def, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := lambdaenv.New(env(map[string]string{"N": tt.value}))
			got, err := e.Int("N", def, least), e.Err()
			if tt.wantErr {
				if err == nil || !strings.HasPrefix(err.Error(), "N ") || got != tt.want {
					t.Fatalf("Int() = %v, %v; want %v and a problem naming N", got, err, tt.want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Int() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestEnvStrings(t *testing.T) {
	tests := []struct {
		name    string
		read    func(*lambdaenv.Env, string) string
		value   string // of V; "" means unset
		want    string
		problem string // "" if none
	}{
		{name: "required", read: (*lambdaenv.Env).Required, value: "table", want: "table"},
		{name: "required unset", read: (*lambdaenv.Env).Required, problem: "V is not set"},
		{name: "optional", read: (*lambdaenv.Env).Optional, value: "x", want: "x"},
		{name: "optional unset", read: (*lambdaenv.Env).Optional},
		{name: "URL", read: (*lambdaenv.Env).URL, value: "https://api.example/prod", want: "https://api.example/prod"},
		{name: "http URL", read: (*lambdaenv.Env).URL, value: "http://127.0.0.1:3001/000000000000/q", want: "http://127.0.0.1:3001/000000000000/q"},
		{name: "URL unset", read: (*lambdaenv.Env).URL, problem: "V is not set"},
		{name: "URL without a scheme", read: (*lambdaenv.Env).URL, value: "api.example/prod", problem: "V is not an absolute http or https URL"},
		{name: "URL of another scheme", read: (*lambdaenv.Env).URL, value: "wss://api.example/prod", problem: "V is not an absolute http or https URL"},
		{name: "URL that does not parse", read: (*lambdaenv.Env).URL, value: "https://user:s3cret@[::1", problem: "V is not an absolute http or https URL"},
		{name: "optional URL unset", read: (*lambdaenv.Env).OptionalURL},
		{name: "optional URL set", read: (*lambdaenv.Env).OptionalURL, value: "https://a.example", want: "https://a.example"},
		{name: "optional URL relative", read: (*lambdaenv.Env).OptionalURL, value: "q", problem: "V is not an absolute http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := lambdaenv.New(env(map[string]string{"V": tt.value}))
			got := tt.read(e, "V")
			var problem string
			if err := e.Err(); err != nil {
				problem = err.Error()
			}
			if got != tt.want || problem != tt.problem {
				t.Fatalf("read = %q, problem %q; want %q, problem %q", got, problem, tt.want, tt.problem)
			}
		})
	}
}

// TestEnvErrListsEveryProblem: Err reports every problem, in the order the
// reads found them, and nothing once they are all fixed.
func TestEnvErrListsEveryProblem(t *testing.T) {
	read := func(vars map[string]string) error {
		e := lambdaenv.New(env(vars))
		e.Required("TABLE")
		e.URL("ENDPOINT")
		e.Duration("RETENTION", time.Hour)
		if e.Optional("KEY") == "" && e.Optional("KEY_ARN") == "" {
			e.Problem("KEY_ARN is not set (nor KEY)")
		}
		return e.Err()
	}
	got := problems(read(map[string]string{"ENDPOINT": "not a URL", "RETENTION": "forever"}))
	want := []string{
		"TABLE is not set",
		"ENDPOINT is not an absolute http or https URL",
		`RETENTION "forever" is not a duration such as 500ms or 10s`,
		"KEY_ARN is not set (nor KEY)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := read(map[string]string{"TABLE": "t", "ENDPOINT": "https://e.example", "KEY": "k"}); err != nil {
		t.Errorf("complete environment: %v", err)
	}
}

func TestInvocationLogger(t *testing.T) {
	base, logs := logtest.New()
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "inv-1"})
	ctx, log := lambdaenv.Invocation(ctx, base, "route_key", "ping")
	log.Info("in the handler")
	rctx, rlog := lambdaenv.With(ctx, log, "message_id", "m-1")
	rlog.Info("for one record")
	lambdaenv.LoggerFrom(rctx, base).Info("below the handler")
	logs.Check(t, map[string]string{"aws_request_id": "inv-1", "route_key": "ping"})
	if lines := logs.Lines(t); len(lines) != 3 || lines[2]["message_id"] != "m-1" {
		t.Errorf("lines %v; want 3, the last with the record's message_id", lines)
	}

	if got := lambdaenv.LoggerFrom(t.Context(), base); got != base {
		t.Error("LoggerFrom without an invocation: want the logger given")
	}
	_, log = lambdaenv.Invocation(t.Context(), base) // outside Lambda: no lambdacontext
	log.Info("outside Lambda")
	if last := logs.Lines(t)[3]; last["aws_request_id"] != nil {
		t.Errorf("line %v has an aws_request_id outside Lambda", last)
	}
}

func TestRecover(t *testing.T) {
	log, logs := logtest.New()
	handle := func(fail bool) (err error) {
		defer lambdaenv.Recover(log, &err)
		if fail {
			var m map[string]int
			m["boom"]++ // a nil map write: a runtime panic
		}
		return nil
	}
	if err := handle(false); err != nil {
		t.Fatalf("no panic: %v", err)
	}
	if logs.String() != "" {
		t.Fatalf("no panic, yet logged: %s", logs)
	}
	err := handle(true)
	if !errors.Is(err, lambdaenv.ErrPanic) {
		t.Fatalf("error %v; want one wrapping ErrPanic", err)
	}
	lines := logs.Lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d lines; want the panic logged once:\n%s", len(lines), logs)
	}
	stack, _ := lines[0]["stack"].(string)
	if lines[0]["level"] != "ERROR" || !strings.Contains(lines[0]["panic"].(string), "nil map") ||
		!strings.Contains(stack, "lambdaenv_test.TestRecover") {
		t.Errorf("line %v; want an error with the panic value and the stack of the panicking code", lines[0])
	}
}

// TestRecoverGoroutinePanic: a panic carried over from another goroutine
// is logged with the stack where it happened, not where it was raised again.
func TestRecoverGoroutinePanic(t *testing.T) {
	log, logs := logtest.New()
	func() (err error) {
		defer lambdaenv.Recover(log, &err)
		panic(&lambdaenv.GoroutinePanic{Value: "poster bug", Stack: []byte("goroutine 7 [running]:\nfanout.post()")})
	}()
	lines := logs.Lines(t)
	if len(lines) != 1 || lines[0]["panic"] != "poster bug" || lines[0]["stack"] != "goroutine 7 [running]:\nfanout.post()" {
		t.Errorf("logged %v; want the panic's value and its own stack", lines)
	}
}
