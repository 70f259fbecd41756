package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// DevJWTSecret is the development default of JWT_SECRET. It exists only in
// the local stack; deployed functions read their secret from Secrets Manager.
const DevJWTSecret = "local-development-secret-do-not-deploy"

// config is the local stack's configuration, read once from the environment.
type config struct {
	Host      string     // LOCAL_HOST; default 127.0.0.1
	Port      int        // LOCAL_PORT; default 3001
	JWTSecret string     // JWT_SECRET; default DevJWTSecret
	LogLevel  slog.Level // LOG_LEVEL; default info
	// Metrics (LOCAL_METRICS: "stdout", the default, or "off") says whether
	// the functions' metric lines (CloudWatch EMF) are printed on stdout.
	Metrics bool

	// TokenTypes are the accepted token_type claims: ACCEPTED_TOKEN_TYPES,
	// comma separated; default access (auth.DefaultTokenTypes).
	TokenTypes []string

	OracleBaseURL  string        // ORACLE_BASE_URL; empty runs the simulator
	OracleUsername string        // ORACLE_USERNAME
	OraclePassword string        // ORACLE_PASSWORD
	PollInterval   time.Duration // ORACLE_POLL_INTERVAL; default 1s locally
	Deadline       time.Duration // WORKFLOW_DEADLINE; default 2h
	SimJobTime     time.Duration // ORACLE_SIM_JOB_TIME: how long a simulated job runs; default 1s
	SweepInterval  time.Duration // SWEEP_INTERVAL: how often SweeperFunction runs; default 5s locally, 0 never
	// MaxConcurrency (LOCAL_MAX_CONCURRENCY) caps the concurrent invocations
	// of every queue mapping below the template's MaximumConcurrency; 0: no cap.
	MaxConcurrency int

	// Retries of what Oracle did not accept: ORACLE_RETRY_BASE (the first
	// retry comes within it; default 2s locally), ORACLE_RETRY_MAX (default
	// 60s) and ORACLE_RETRY_ATTEMPTS per step (default 10).
	RetryBase     time.Duration
	RetryMax      time.Duration
	RetryAttempts int
	// Gate: the Oracle breaker and job slots, as the worker's
	// (ORACLE_BREAKER_THRESHOLD, ORACLE_BREAKER_WINDOW,
	// ORACLE_BREAKER_PROBE_INTERVAL, ORACLE_RESUME_SPACING,
	// ORACLE_MAX_RUNNING_JOBS); the probe interval defaults to 5s locally.
	Gate oraclegate.Config

	// NotifyRetryDelays (NOTIFY_RETRY_DELAYS, as the NotifyFunction reads
	// it): the waits before each redelivery of a failed post.
	NotifyRetryDelays []time.Duration

	// Preferences (PREFERENCE_DEFAULTS) and Unread (UNREAD_TYPES), as the
	// functions read them: the operator's channels per category and the
	// types stored unread.
	Preferences preference.Defaults
	Unread      notification.UnreadRule
	// PreferencesText and UnreadText are the two variables as given (empty
	// when unset), passed on to functions run under SAM.
	PreferencesText, UnreadText string

	// E-mail, as the functions read it: EmailSender (EMAIL_SENDER; default
	// notifications@example.com), EmailWindow (EMAIL_WINDOW; default
	// mail.DefaultWindow) and EmailUnreadDelay (EMAIL_UNREAD_DELAY; default
	// mail.DefaultUnreadDelay).
	EmailSender                   string
	EmailWindow, EmailUnreadDelay time.Duration

	IdleTimeout time.Duration // IDLE_TIMEOUT; default 10m (API Gateway's)
	MaxDuration time.Duration // MAX_CONNECTION_DURATION; default 2h (API Gateway's)

	DataAccessSet      string // ORACLE_DATA_ACCESS_SET; default "1" locally, for journal imports
	AutoPostCriteriaID string // ORACLE_AUTOPOST_CRITERIA_ID; default "1" locally

	// AWSEndpoint (AWS_ENDPOINT_URL) names an AWS API (e.g. moto_server)
	// whose DynamoDB tables and SQS queues replace the embedded stores and
	// queues.
	AWSEndpoint    string
	ResourcePrefix string // RESOURCE_PREFIX of those tables' and queues' names; default "fbdi-local-"
	Region         string // AWS_REGION (else AWS_DEFAULT_REGION) of that API; default us-east-1

	// LambdaEndpoint (LAMBDA_ENDPOINT) names a Lambda Invoke API (`sam local
	// start-lambda`) whose functions, by the template's logical IDs, take
	// the place of the in-process handlers. It needs AWSEndpoint: the
	// functions and the stack share those tables and queues.
	LambdaEndpoint string
}

func configFromEnv(getenv func(string) string) (config, error) {
	c := config{
		Host:               cmp.Or(getenv("LOCAL_HOST"), "127.0.0.1"),
		JWTSecret:          cmp.Or(getenv("JWT_SECRET"), DevJWTSecret),
		OracleBaseURL:      getenv("ORACLE_BASE_URL"),
		OracleUsername:     cmp.Or(getenv("ORACLE_USERNAME"), "local"),
		OraclePassword:     cmp.Or(getenv("ORACLE_PASSWORD"), "local"),
		DataAccessSet:      cmp.Or(getenv("ORACLE_DATA_ACCESS_SET"), "1"),
		AutoPostCriteriaID: cmp.Or(getenv("ORACLE_AUTOPOST_CRITERIA_ID"), "1"),
		AWSEndpoint:        getenv("AWS_ENDPOINT_URL"),
		ResourcePrefix:     cmp.Or(getenv("RESOURCE_PREFIX"), "fbdi-local-"),
		LambdaEndpoint:     getenv("LAMBDA_ENDPOINT"),
		Region:             cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"), "us-east-1"),
	}
	for t := range strings.SplitSeq(getenv("ACCEPTED_TOKEN_TYPES"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.TokenTypes = append(c.TokenTypes, t)
		}
	}
	var errs []error
	port, err := strconv.Atoi(cmp.Or(getenv("LOCAL_PORT"), "3001"))
	if err != nil || port < 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("LOCAL_PORT %q is not a port number", getenv("LOCAL_PORT")))
	}
	c.Port = port
	if err := c.LogLevel.UnmarshalText([]byte(cmp.Or(getenv("LOG_LEVEL"), "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	env := lambdaenv.New(getenv)
	c.PollInterval = env.Duration("ORACLE_POLL_INTERVAL", time.Second)
	c.Deadline = env.Duration("WORKFLOW_DEADLINE", 2*time.Hour)
	c.RetryBase = env.Duration("ORACLE_RETRY_BASE", 2*time.Second)
	c.RetryMax = env.Duration("ORACLE_RETRY_MAX", workflow.DefaultRetryMax)
	c.Gate.Window = env.Duration("ORACLE_BREAKER_WINDOW", oraclegate.DefaultWindow)
	c.Gate.ProbeInterval = env.Duration("ORACLE_BREAKER_PROBE_INTERVAL", 5*time.Second)
	c.Gate.ResumeSpacing = env.Duration("ORACLE_RESUME_SPACING", oraclegate.DefaultResumeSpacing)
	c.Gate.Threshold = env.Int("ORACLE_BREAKER_THRESHOLD", 0, 0)
	c.Gate.MaxRunningJobs = env.Int("ORACLE_MAX_RUNNING_JOBS", 0, 0)
	c.RetryAttempts = env.Int("ORACLE_RETRY_ATTEMPTS", workflow.DefaultMaxAttempts, 1)
	c.MaxConcurrency = env.Int("LOCAL_MAX_CONCURRENCY", 0, 0)
	c.SimJobTime = env.Duration("ORACLE_SIM_JOB_TIME", time.Second)
	c.SweepInterval = env.Duration("SWEEP_INTERVAL", 5*time.Second)
	switch m := cmp.Or(getenv("LOCAL_METRICS"), "stdout"); m {
	case "stdout", "off":
		c.Metrics = m == "stdout"
	default:
		errs = append(errs, fmt.Errorf("LOCAL_METRICS %q is neither stdout nor off", m))
	}
	c.EmailSender = cmp.Or(getenv("EMAIL_SENDER"), "notifications@example.com")
	c.EmailWindow = env.Duration("EMAIL_WINDOW", mail.DefaultWindow)
	c.EmailUnreadDelay = env.Duration("EMAIL_UNREAD_DELAY", mail.DefaultUnreadDelay)
	c.IdleTimeout = env.Duration("IDLE_TIMEOUT", 10*time.Minute)
	c.MaxDuration = env.Duration("MAX_CONNECTION_DURATION", 2*time.Hour)
	errs = append(errs, env.Err())
	if c.NotifyRetryDelays, err = notifier.ParseRetryDelays(getenv("NOTIFY_RETRY_DELAYS")); err != nil {
		errs = append(errs, fmt.Errorf("NOTIFY_RETRY_DELAYS: %w", err))
	}
	c.PreferencesText, c.UnreadText = getenv("PREFERENCE_DEFAULTS"), getenv("UNREAD_TYPES")
	if c.Preferences, err = preference.ParseDefaults(c.PreferencesText); err != nil {
		errs = append(errs, fmt.Errorf("PREFERENCE_DEFAULTS: %w", err))
	}
	if c.Unread, err = notification.ParseUnreadRule(c.UnreadText); err != nil {
		errs = append(errs, fmt.Errorf("UNREAD_TYPES: %w", err))
	}
	if c.LambdaEndpoint != "" && c.AWSEndpoint == "" {
		errs = append(errs, errors.New("LAMBDA_ENDPOINT needs AWS_ENDPOINT_URL: the functions and the stack must share the tables and queues"))
	}
	return c, errors.Join(errs...)
}
