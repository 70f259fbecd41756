package lambdaenv

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Env reads the configuration of a function from its environment, once, and
// collects every problem it finds on the way, so that a function stops at
// its cold start with all of them listed (see Err) instead of the first.
// A method that finds a problem returns the zero value (Duration: its
// default), which main never uses: Err is not nil. Problems name the
// variable and what is wrong with it; they never quote a value that may be
// secret. An Env is not safe for concurrent use.
type Env struct {
	getenv   func(string) string
	problems []error
}

// New returns an Env that reads variables through getenv (os.Getenv in a
// function's main, a map in tests).
func New(getenv func(string) string) *Env {
	return &Env{getenv: getenv}
}

// Required returns the value of the variable name; it is a problem if the
// variable is unset or empty.
func (e *Env) Required(name string) string {
	v := e.getenv(name)
	if v == "" {
		e.Problem("%s is not set", name)
	}
	return v
}

// Optional returns the value of the variable name, or "" if it is unset.
func (e *Env) Optional(name string) string {
	return e.getenv(name)
}

// URL returns the value of the variable name, which must be an absolute
// http or https URL; it is a problem if it is unset, empty or not such a URL.
func (e *Env) URL(name string) string {
	if e.getenv(name) == "" {
		e.Problem("%s is not set", name)
		return ""
	}
	return e.OptionalURL(name)
}

// OptionalURL returns the value of the variable name, or "" if it is unset;
// a value that is not an absolute http or https URL is a problem.
func (e *Env) OptionalURL(name string) string {
	v := e.getenv(name)
	if v == "" {
		return ""
	}
	// The value is not quoted: a URL may carry credentials.
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		e.Problem("%s is not an absolute http or https URL", name)
		return ""
	}
	return v
}

// Duration returns the duration in the variable name, in Go's syntax ("10s",
// "2h"), or def when the variable is unset or empty. Zero is a value, not
// unset. A value that does not parse, or is negative, is a problem (and
// gives def).
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		e.Problem("%s %q is not a duration such as 500ms or 10s", name, v)
		return def
	}
	return d
}

// Int returns the whole number in the variable name, or def when the
// variable is unset or empty. A value that does not parse, or is below
// least, is a problem (and gives def).
func (e *Env) Int(name string, def, least int) int {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		e.Problem("%s %q is not a whole number of at least %d", name, v, least)
		return def
	}
	return n
}

// AWS returns the AWS configuration of a function: the region from
// AWS_REGION (else AWS_DEFAULT_REGION), the credentials from
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as Lambda
// sets them, and, when AWS_ENDPOINT_URL is set, that endpoint for every
// service (tests point it at moto_server). The SDK's default retryer and
// HTTP client apply. A missing region or missing credentials are problems.
//
// It replaces config.LoadDefaultConfig on purpose: see the package comment.
func (e *Env) AWS() aws.Config {
	cfg := aws.Config{Region: e.getenv("AWS_REGION")}
	if cfg.Region == "" {
		cfg.Region = e.getenv("AWS_DEFAULT_REGION")
	}
	if cfg.Region == "" {
		e.Problem("AWS_REGION is not set (nor AWS_DEFAULT_REGION)")
	}
	id, key := e.getenv("AWS_ACCESS_KEY_ID"), e.getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || key == "" {
		e.Problem("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set")
	}
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, key, e.getenv("AWS_SESSION_TOKEN")))
	if ep := e.OptionalURL("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg
}

// Problem records a problem that no single read can see, such as two
// variables of which one must be set. The text must name the variables
// and must not quote a secret.
func (e *Env) Problem(format string, args ...any) {
	e.problems = append(e.problems, fmt.Errorf(format, args...))
}

// Err returns nil if every variable read was valid; otherwise one error that
// lists every problem, one per line, in the order they were found.
func (e *Env) Err() error {
	return errors.Join(e.problems...)
}
