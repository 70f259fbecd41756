package main

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/auth"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
)

// config is the ConnectFunction's configuration, read once at its cold start.
type config struct {
	AWS              aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	ConnectionsTable string     // CONNECTIONS_TABLE

	// The HS256 key of the upstream web application's JWTs: JWT_SECRET, the
	// key itself (tests, local runs), or else the Secrets Manager secret
	// JWT_SECRET_ARN (deployed), which main reads. One of them is required.
	JWTSecret    string
	JWTSecretARN string

	// TokenTypes are the accepted token_type claims (ACCEPTED_TOKEN_TYPES,
	// comma separated; default auth.DefaultTokenTypes, "access").
	TokenTypes []string

	// StackName (STACK_NAME, which the template sets to the stack's name;
	// optional) is the Stack dimension of the function's metrics; unset,
	// "local".
	StackName string
}

// loadConfig reads the configuration through getenv. The error lists every
// missing or bad variable.
func loadConfig(getenv func(string) string) (config, error) {
	env := lambdaenv.New(getenv)
	c := config{
		AWS:              env.AWS(),
		ConnectionsTable: env.Required("CONNECTIONS_TABLE"),
		JWTSecret:        env.Optional("JWT_SECRET"),
		JWTSecretARN:     env.Optional("JWT_SECRET_ARN"),
		StackName:        env.Optional("STACK_NAME"),
	}
	for t := range strings.SplitSeq(env.Optional("ACCEPTED_TOKEN_TYPES"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.TokenTypes = append(c.TokenTypes, t)
		}
	}
	if c.TokenTypes == nil {
		c.TokenTypes = auth.DefaultTokenTypes
	}
	if c.JWTSecret == "" && c.JWTSecretARN == "" {
		env.Problem("JWT_SECRET_ARN is not set (nor JWT_SECRET)")
	}
	return c, env.Err()
}
