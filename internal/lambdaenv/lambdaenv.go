// Package lambdaenv builds what every function's main needs from the Lambda
// execution environment: its JSON logger, its AWS configuration and its
// durations.
//
// AWSConfig replaces config.LoadDefaultConfig on purpose. Lambda hands a
// function its region and its execution role's credentials as environment
// variables, which is all a function here needs; LoadDefaultConfig also links
// the shared-config, SSO, STS, sign-in and EC2 metadata providers, which
// cost about a megabyte in every bootstrap and file reads on every cold
// start, and are never used in Lambda. The values are read through the
// getenv function that main passes in, so main stays the only reader of the
// environment.
package lambdaenv

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Logger returns the JSON logger of a function, writing to stdout (which
// Lambda sends to CloudWatch Logs) at the level named by LOG_LEVEL: debug,
// info, warn or error; unset or unknown means info.
func Logger(getenv func(string) string) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(getenv("LOG_LEVEL")))
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// AWSConfig returns the AWS configuration of a function: the region from
// AWS_REGION (else AWS_DEFAULT_REGION), the credentials from
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as Lambda
// sets them, and, when AWS_ENDPOINT_URL is set, that endpoint for every
// service (tests point it at moto_server). The SDK's default retryer and HTTP
// client apply. It returns an error when the region or the credentials are
// missing.
func AWSConfig(getenv func(string) string) (aws.Config, error) {
	cfg := aws.Config{Region: getenv("AWS_REGION")}
	if cfg.Region == "" {
		cfg.Region = getenv("AWS_DEFAULT_REGION")
	}
	id, key := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	var errs []error
	if cfg.Region == "" {
		errs = append(errs, errors.New("lambdaenv: AWS_REGION is not set"))
	}
	if id == "" || key == "" {
		errs = append(errs, errors.New("lambdaenv: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"))
	}
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, key, getenv("AWS_SESSION_TOKEN")))
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, errors.Join(errs...)
}

// Duration returns the duration in the environment variable name, in Go's
// syntax ("10s", "2h"), or def when the variable is unset or empty. A value
// that does not parse, or is negative, is an error that names the variable.
func Duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("lambdaenv: %s %q is not a duration such as 500ms or 10s", name, v)
	}
	return d, nil
}
