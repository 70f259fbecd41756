package lambdaenv

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAWSConfig(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantErr    string
		wantRegion string
		wantEP     string
	}{
		{name: "lambda environment", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID",
			"AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN"}, wantRegion: "eu-west-1"},
		{name: "default region and endpoint", env: map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a",
			"AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, wantRegion: "us-east-1", wantEP: "http://127.0.0.1:5000"},
		{name: "no region", env: map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, wantErr: "AWS_REGION"},
		{name: "no credentials", env: map[string]string{"AWS_REGION": "eu-west-1"}, wantErr: "AWS_ACCESS_KEY_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := AWSConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v; want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
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

func TestDuration(t *testing.T) {
	const def = 10 * time.Second
	tests := []struct {
		name    string
		value   string // of POLL; "" means unset
		want    time.Duration
		wantErr bool
	}{
		{name: "unset gives the default", want: def},
		{name: "set", value: "1m30s", want: 90 * time.Second},
		{name: "zero is a value, not unset", value: "0s", want: 0},
		{name: "no unit", value: "10", wantErr: true},
		{name: "not a duration", value: "soon", wantErr: true},
		{name: "negative", value: "-5s", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Duration(func(k string) string { return map[string]string{"POLL": tt.value}[k] }, "POLL", def)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "POLL") {
					t.Fatalf("Duration() = %v, %v; want an error naming POLL", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Duration() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
