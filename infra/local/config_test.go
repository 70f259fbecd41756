package main

import (
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/notification"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(config) bool
		wantErr string // in the error; "" means none
	}{
		{name: "defaults", env: nil, check: func(c config) bool {
			return c.Port == 3001 && c.Host == "127.0.0.1" && c.ResourcePrefix == "fbdi-local-" && c.IdleTimeout == 10*time.Minute &&
				c.AWSEndpoint == "" && c.LambdaEndpoint == "" && c.Region == "us-east-1"
		}},
		{name: "region", env: map[string]string{"AWS_DEFAULT_REGION": "eu-west-1"}, check: func(c config) bool { return c.Region == "eu-west-1" }},
		{name: "AWS_REGION wins", env: map[string]string{"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-west-1"},
			check: func(c config) bool { return c.Region == "eu-central-1" }},
		{name: "AWS API and functions behind the Invoke API",
			env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "LAMBDA_ENDPOINT": "http://127.0.0.1:3002", "RESOURCE_PREFIX": "dev-"},
			check: func(c config) bool {
				return c.AWSEndpoint == "http://127.0.0.1:5000" && c.LambdaEndpoint == "http://127.0.0.1:3002" && c.ResourcePrefix == "dev-"
			}},
		{name: "Invoke API without an AWS API", env: map[string]string{"LAMBDA_ENDPOINT": "http://127.0.0.1:3002"},
			wantErr: "LAMBDA_ENDPOINT needs AWS_ENDPOINT_URL"},
		{name: "token types", env: map[string]string{"ACCEPTED_TOKEN_TYPES": "access, sliding"},
			check: func(c config) bool { return strings.Join(c.TokenTypes, "|") == "access|sliding" }},
		{name: "token types default", env: nil, check: func(c config) bool { return c.TokenTypes == nil }}, // auth's default
		{name: "concurrency cap", env: map[string]string{"LOCAL_MAX_CONCURRENCY": "1"}, check: func(c config) bool { return c.MaxConcurrency == 1 }},
		{name: "no concurrency cap", env: nil, check: func(c config) bool { return c.MaxConcurrency == 0 }},
		{name: "bad concurrency cap", env: map[string]string{"LOCAL_MAX_CONCURRENCY": "-1"}, wantErr: "LOCAL_MAX_CONCURRENCY"},
		{name: "bad breaker threshold", env: map[string]string{"ORACLE_BREAKER_THRESHOLD": "x"}, wantErr: "ORACLE_BREAKER_THRESHOLD"},
		{name: "metrics on stdout by default", env: nil, check: func(c config) bool { return c.Metrics }},
		{name: "metrics off", env: map[string]string{"LOCAL_METRICS": "off"}, check: func(c config) bool { return !c.Metrics }},
		{name: "bad metrics", env: map[string]string{"LOCAL_METRICS": "cloudwatch"}, wantErr: "LOCAL_METRICS"},
		{name: "preference defaults", env: map[string]string{"PREFERENCE_DEFAULTS": `{"hr":{"in_app":false}}`, "UNREAD_TYPES": "oracle_upload_failed"},
			check: func(c config) bool {
				return !c.Preferences.For("hr").InApp && c.Preferences.For("general").InApp &&
					c.PreferencesText == `{"hr":{"in_app":false}}` && c.UnreadText == "oracle_upload_failed" &&
					!c.Unread.Unread(notification.General("x", nil))
			}},
		{name: "bad preference defaults", env: map[string]string{"PREFERENCE_DEFAULTS": `{"hr":{"sms":true}}`}, wantErr: "PREFERENCE_DEFAULTS"},
		{name: "bad unread types", env: map[string]string{"UNREAD_TYPES": "pong"}, wantErr: "UNREAD_TYPES"},
		{name: "bad port", env: map[string]string{"LOCAL_PORT": "http"}, wantErr: "LOCAL_PORT"},
		{name: "bad duration", env: map[string]string{"IDLE_TIMEOUT": "ten minutes"}, wantErr: "IDLE_TIMEOUT"},
		{name: "negative duration", env: map[string]string{"MAX_CONNECTION_DURATION": "-1h"}, wantErr: "MAX_CONNECTION_DURATION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := configFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want one mentioning %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("configFromEnv = %+v, %v", c, err)
			}
		})
	}
}
