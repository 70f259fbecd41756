package envtest_test

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/finance/fbdi-notify/internal/testing/envtest"
)

func TestWith(t *testing.T) {
	base := map[string]string{"A": "1", "B": "2"}
	before := maps.Clone(base)
	got := envtest.With(base, map[string]string{"B": "", "C": "3"}, map[string]string{"C": "4"})
	if want := map[string]string{"A": "1", "B": "", "C": "4"}; !maps.Equal(got, want) {
		t.Errorf("With() = %v, want %v", got, want)
	}
	if !maps.Equal(base, before) {
		t.Errorf("With changed its env: %v, was %v", base, before)
	}
	if got := envtest.With(nil, map[string]string{"A": "1"}); got["A"] != "1" {
		t.Errorf("With(nil, A=1) = %v", got)
	}
	if getenv := envtest.Getenv(got); getenv("A") != "1" || getenv("B") != "" || envtest.Getenv(nil)("A") != "" {
		t.Errorf("Getenv does not read its env")
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	fatal, errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = append(r.fatal, fmt.Sprintf(format, args...))
}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheck(t *testing.T) {
	env := envtest.With(envtest.AWS, map[string]string{"ORACLE_PASSWORD": "sim-password", "JWT_SECRET_ARN": "arn:jwt"})
	tests := []struct {
		name      string
		err       error
		want      []string
		wantOK    bool // Check's result
		wantFatal bool // the error text is not want
		wantError bool // the error quotes a secret
	}{
		{name: "valid", wantOK: true},
		{name: "the problems wanted", err: errors.New("A is not set\nB is not set"), want: []string{"A is not set", "B is not set"}},
		{name: "a problem missing", err: errors.New("A is not set"), want: []string{"A is not set", "B is not set"}, wantFatal: true},
		{name: "unwanted problem", err: errors.New("A is not set"), wantFatal: true},
		{name: "no problem but one wanted", want: []string{"A is not set"}, wantOK: true, wantFatal: true},
		{name: "quotes a password", err: errors.New("bad sim-password"), want: []string{"bad sim-password"}, wantError: true},
		{name: "quotes the AWS key", err: errors.New("bad wJalrXUtnFEMI"), want: []string{"bad wJalrXUtnFEMI"}, wantError: true},
		{name: "quotes an ARN, no secret", err: errors.New("bad arn:jwt"), want: []string{"bad arn:jwt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			ok := envtest.Check(r, env, tt.err, tt.want)
			if ok != tt.wantOK || (len(r.fatal) > 0) != tt.wantFatal || (len(r.errs) > 0) != tt.wantError {
				t.Errorf("Check() = %v, fatal %q, errors %q; want %v, fatal %v, errors %v",
					ok, r.fatal, r.errs, tt.wantOK, tt.wantFatal, tt.wantError)
			}
		})
	}
}

func TestRun(t *testing.T) {
	load := func(getenv func(string) string) (string, error) {
		if getenv("NAME") == "" {
			return "", errors.New("NAME is not set")
		}
		return getenv("NAME"), nil
	}
	var held []string
	envtest.Run(t, load, []envtest.Case[int]{
		{Name: "valid", Env: map[string]string{"NAME": "x"}, Want: 7},
		{Name: "invalid", Env: nil, Problems: []string{"NAME is not set"}, Want: 8},
	}, func(t testing.TB, env map[string]string, want int, cfg string) {
		held = append(held, fmt.Sprint(cfg, " ", env["NAME"], " ", want))
	})
	if len(held) != 1 || held[0] != "x x 7" {
		t.Errorf("holds saw %q, want only the valid case's config, env and Want", held)
	}
}

func TestUnset(t *testing.T) {
	got := envtest.Unset("A is not set")
	want := []string{"AWS_REGION is not set (nor AWS_DEFAULT_REGION)",
		"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set", "A is not set"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Unset() = %q, want %q", got, want)
	}
}
