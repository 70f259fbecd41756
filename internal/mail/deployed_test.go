package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/mail"
)

func TestReadOutbox(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    mail.OutboxConfig
		wantErr string // in the error; "" for none
	}{
		{name: "no mail queue: nothing e-mailed", env: nil,
			want: mail.OutboxConfig{Scheduler: mail.SchedulerConfig{Window: mail.DefaultWindow, UnreadDelay: mail.DefaultUnreadDelay}}},
		{name: "as the template sets it",
			env: map[string]string{"MAIL_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/mail", "EMAIL_WINDOW": "2m",
				"EMAIL_UNREAD_DELAY": "15m", "SMS_ENABLED": "true"},
			want: mail.OutboxConfig{Scheduler: mail.SchedulerConfig{QueueURL: "https://sqs.eu-west-1.amazonaws.com/1/mail",
				Window: 2 * time.Minute, UnreadDelay: 15 * time.Minute}, SMS: true}},
		{name: "SMS off", env: map[string]string{"SMS_ENABLED": "false"},
			want: mail.OutboxConfig{Scheduler: mail.SchedulerConfig{Window: mail.DefaultWindow, UnreadDelay: mail.DefaultUnreadDelay}}},
		{name: "window longer than SQS delays", env: map[string]string{"EMAIL_WINDOW": "16m"}, wantErr: "EMAIL_WINDOW 16m0s is more than 15m0s"},
		{name: "unread delay longer than SQS delays", env: map[string]string{"EMAIL_UNREAD_DELAY": "1h"}, wantErr: "EMAIL_UNREAD_DELAY"},
		{name: "SMS yes", env: map[string]string{"SMS_ENABLED": "yes"}, wantErr: `SMS_ENABLED "yes"`},
		{name: "queue not a URL", env: map[string]string{"MAIL_QUEUE_URL": "mail"}, wantErr: "MAIL_QUEUE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := lambdaenv.New(func(k string) string { return tt.env[k] })
			got := mail.ReadOutbox(env)
			err := env.Err()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want one mentioning %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ReadOutbox = %+v, want %+v", got, tt.want)
			}
		})
	}
}
