package secret_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/finance/fbdi-notify/internal/secret"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

// TestFetchFromSecretsManager reads real secrets from moto_server's Secrets
// Manager, by name and by ARN.
func TestFetchFromSecretsManager(t *testing.T) {
	client := secretsmanager.NewFromConfig(awstest.Config(t))
	ctx := awstest.Context(t)
	create := func(value string) (name, arn string) {
		name = awstest.UniqueName(t, "jwt")
		out, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatalf("create secret: %v", err)
		}
		t.Cleanup(func() {
			_, _ = client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
		})
		return name, aws.ToString(out.ARN)
	}
	rawName, rawARN := create("raw-value")
	jsonName, jsonARN := create(`{"JWT_SECRET":"json-value"}`)
	tests := []struct {
		name    string
		id      string
		want    string
		wantErr error
	}{
		{name: "raw by name", id: rawName, want: "raw-value"},
		{name: "raw by ARN", id: rawARN, want: "raw-value"},
		{name: "JSON by name", id: jsonName, want: "json-value"},
		{name: "JSON by ARN", id: jsonARN, want: "json-value"},
		{name: "missing", id: "no-such-secret-" + rawName, wantErr: secret.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := secret.Fetch(ctx, client, tt.id, "JWT_SECRET")
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Fetch() = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
