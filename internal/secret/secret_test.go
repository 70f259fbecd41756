package secret_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/finance/fbdi-notify/internal/secret"
)

// fakeSecrets is a Secrets Manager holding secrets by ID.
type fakeSecrets struct {
	values map[string]*secretsmanager.GetSecretValueOutput
	err    error // returned by every call when set
	asked  []string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = append(f.asked, aws.ToString(in.SecretId))
	if f.err != nil {
		return nil, f.err
	}
	out, ok := f.values[aws.ToString(in.SecretId)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}
	}
	return out, nil
}

func TestFetch(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf"
	str := func(s string) *secretsmanager.GetSecretValueOutput {
		return &secretsmanager.GetSecretValueOutput{ARN: aws.String(arn), SecretString: aws.String(s)}
	}
	tests := []struct {
		name    string
		stored  *secretsmanager.GetSecretValueOutput // nil: no such secret
		callErr error
		key     string
		want    string
		wantErr error
	}{
		{name: "raw value", stored: str("s3cr3t"), key: "", want: "s3cr3t"},
		{name: "raw value with key asked", stored: str("s3cr3t"), key: "JWT_SECRET", want: "s3cr3t"},
		{name: "raw value kept byte for byte", stored: str(" s3cr3t\n"), key: "JWT_SECRET", want: " s3cr3t\n"},
		{name: "JSON object key", stored: str(`{"JWT_SECRET":"from-json","other":"x"}`), key: "JWT_SECRET", want: "from-json"},
		{name: "JSON object without key asked", stored: str(`{"JWT_SECRET":"from-json"}`), key: "", want: `{"JWT_SECRET":"from-json"}`},
		{name: "JSON string escapes decoded", stored: str(`{"k":"a\"b\u00e9"}`), key: "k", want: `a"bé`},
		{name: "JSON array is a raw value", stored: str(`["a"]`), key: "k", want: `["a"]`},
		{name: "JSON object missing key", stored: str(`{"other":"x"}`), key: "JWT_SECRET", wantErr: secret.ErrKeyNotFound},
		{name: "JSON object empty value", stored: str(`{"JWT_SECRET":""}`), key: "JWT_SECRET", wantErr: secret.ErrKeyNotFound},
		{name: "JSON object number value", stored: str(`{"JWT_SECRET":42}`), key: "JWT_SECRET", wantErr: secret.ErrKeyNotFound},
		{name: "empty string", stored: str(""), wantErr: secret.ErrEmpty},
		{name: "binary only", stored: &secretsmanager.GetSecretValueOutput{SecretBinary: []byte{1, 2}}, wantErr: secret.ErrEmpty},
		{name: "no such secret", stored: nil, wantErr: secret.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSecrets{values: map[string]*secretsmanager.GetSecretValueOutput{}}
			if tt.stored != nil {
				f.values[arn] = tt.stored
			}
			got, err := secret.Fetch(context.Background(), f, arn, tt.key)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Fetch() error = %v; want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("Fetch() = %q; want %q", got, tt.want)
			}
			if len(f.asked) != 1 || f.asked[0] != arn {
				t.Fatalf("asked for %q; want exactly [%s]", f.asked, arn)
			}
			if err != nil && tt.stored != nil && tt.stored.SecretString != nil && *tt.stored.SecretString != "" &&
				strings.Contains(err.Error(), *tt.stored.SecretString) {
				t.Fatalf("error %q contains the secret", err)
			}
		})
	}
}

func TestFetchWrapsCallErrors(t *testing.T) {
	cause := errors.New("AccessDeniedException: not allowed")
	f := &fakeSecrets{err: cause}
	_, err := secret.Fetch(context.Background(), f, "jwt", "")
	if !errors.Is(err, cause) {
		t.Fatalf("Fetch() error = %v; want it to wrap %v", err, cause)
	}
	if !strings.Contains(err.Error(), "secret: get jwt") {
		t.Fatalf("Fetch() error %q does not name the operation and secret", err)
	}
}

func TestFetchFields(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:oracle-AbCdEf"
	tests := []struct {
		name    string
		stored  string
		want    map[string]string
		wantErr error
	}{
		{name: "all keys", stored: `{"base_url":"https://x.example","username":"u","password":"p","extra":1}`,
			want: map[string]string{"base_url": "https://x.example", "username": "u", "password": "p"}},
		{name: "missing key", stored: `{"base_url":"https://x.example","username":"u"}`, wantErr: secret.ErrKeyNotFound},
		{name: "empty key", stored: `{"base_url":"https://x.example","username":"u","password":""}`, wantErr: secret.ErrKeyNotFound},
		{name: "not an object", stored: `p4ss`, wantErr: secret.ErrKeyNotFound},
		{name: "empty secret", stored: ``, wantErr: secret.ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSecrets{values: map[string]*secretsmanager.GetSecretValueOutput{
				arn: {ARN: aws.String(arn), SecretString: aws.String(tt.stored)}}}
			got, err := secret.FetchFields(context.Background(), f, arn, "base_url", "username", "password")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v; want %v", err, tt.wantErr)
			}
			if len(f.asked) != 1 {
				t.Fatalf("%d calls to Secrets Manager; want 1", len(f.asked))
			}
			if err != nil {
				if strings.Contains(err.Error(), "p4ss") {
					t.Fatalf("error reveals the secret: %v", err)
				}
				return
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q; want %q", k, got[k], v)
				}
			}
		})
	}
}
