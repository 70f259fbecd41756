// Package envtest holds what the functions' config tests share: the
// environment Lambda and the template's Globals give every function, a way
// to edit it, and a table runner that loads a config from each environment
// and checks the problems it reports.
package envtest

import (
	"maps"
	"strings"
	"testing"
)

// AWS is the environment every deployed function has: the variables Lambda
// sets and the template's Globals. A test adds its function's own variables
// with With; AWS itself is never changed.
var AWS = map[string]string{
	"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE",
	"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI", "AWS_SESSION_TOKEN": "FwoGZXIvYXdz",
	"LOG_LEVEL": "info", "AWS_ENDPOINT_URL": "",
}

// Unset returns the problems loading reports for the empty environment:
// those about the AWS variables first, then the function's own.
func Unset(own ...string) []string {
	return append([]string{
		"AWS_REGION is not set (nor AWS_DEFAULT_REGION)",
		"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
	}, own...)
}

// With returns a copy of env changed by edits, which win in order; an empty
// value unsets the variable. env is not changed.
func With(env map[string]string, edits ...map[string]string) map[string]string {
	out := maps.Clone(env)
	if out == nil {
		out = map[string]string{}
	}
	for _, e := range edits {
		maps.Copy(out, e)
	}
	return out
}

// Getenv returns a getenv that reads env, as os.Getenv reads the process's
// environment; a nil env is the empty environment.
func Getenv(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

// Check fails t unless err's text is want joined by newlines (no error when
// want is empty), and also if err quotes the value of one of env's secrets
// (a variable whose name ends in _SECRET, _PASSWORD, _TOKEN or
// _SECRET_ACCESS_KEY). It reports whether err is nil, that is whether the
// caller goes on to check the config's values.
func Check(t testing.TB, env map[string]string, err error, want []string) bool {
	t.Helper()
	got := ""
	if err != nil {
		got = err.Error()
	}
	if w := strings.Join(want, "\n"); got != w {
		t.Fatalf("loadConfig() error:\n%s\nwant:\n%s", got, w)
	}
	for name, value := range env {
		if secret(name) && value != "" && strings.Contains(got, value) {
			t.Errorf("the error quotes %s: %s", name, got)
		}
	}
	return err == nil
}

// secret reports whether the variable name holds a secret value.
func secret(name string) bool {
	for _, suffix := range []string{"_SECRET", "_PASSWORD", "_TOKEN", "_SECRET_ACCESS_KEY"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// Case is one row of a config table test. W is what a valid environment's
// config holds beyond the values Env spells out (defaults, parsed
// durations); struct{} when Env says it all.
type Case[W any] struct {
	Name     string            // names the subtest
	Env      map[string]string // the environment; nil is the empty one
	Problems []string          // every problem loading reports, in order; none for a valid environment
	Want     W                 // for a valid environment, passed to holds
}

// Run runs a subtest per case: it loads a config from the case's
// environment with load, checks the problems with Check and, for a valid
// environment, calls holds to check that the config holds the environment's
// values and the case's Want. It takes a *testing.T, not a testing.TB,
// to run subtests.
func Run[C, W any](t *testing.T, load func(getenv func(string) string) (C, error), cases []Case[W],
	holds func(t testing.TB, env map[string]string, want W, cfg C)) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			cfg, err := load(Getenv(tc.Env))
			if Check(t, tc.Env, err, tc.Problems) {
				holds(t, tc.Env, tc.Want, cfg)
			}
		})
	}
}
