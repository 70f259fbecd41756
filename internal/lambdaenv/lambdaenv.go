// Package lambdaenv holds what every function shares about running on
// Lambda: its configuration, read once from the environment by main (Env);
// its JSON logger (Logger); the logger of each invocation, which carries the
// invocation's ids (Invocation); and the rule for a panic while handling one
// record of a batch (Recover).
//
// Env.AWS replaces config.LoadDefaultConfig on purpose. Lambda hands a
// function its region and its execution role's credentials as environment
// variables, which is all a function here needs; LoadDefaultConfig also links
// the shared-config, SSO, STS, sign-in and EC2 metadata providers, which
// cost about a megabyte in every bootstrap and file reads on every cold
// start, and are never used in Lambda. Values are read through the getenv
// function that main passes in, so main stays the only reader of the
// environment.
//
// # Log vocabulary
//
// Every log line of the functions and of the local stack uses these keys:
//
//	error             an error (never "err")
//	aws_request_id    the Lambda invocation's request id (lambdacontext)
//	apigw_request_id  the API Gateway request id of a WebSocket event
//	ess_request_id    an Oracle ESS job's request id
//	connection_id     a WebSocket connection
//	route_key         a WebSocket route ($connect, ping, ...)
//	message_id        an SQS message
//	panic, stack      a recovered panic's value and stack
package lambdaenv

import (
	"log/slog"
	"os"
)

// Logger returns the JSON logger of a function, writing to stdout (which
// Lambda sends to CloudWatch Logs) at the level named by LOG_LEVEL: debug,
// info, warn or error; unset or unknown means info.
func Logger(getenv func(string) string) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(getenv("LOG_LEVEL")))
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}
