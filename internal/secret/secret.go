// Package secret reads secret strings from AWS Secrets Manager.
//
// A secret's SecretString is either the value itself or a JSON object with
// the value under a named key (the shape the Secrets Manager console makes
// for "key/value" secrets), so operators may store it either way.
package secret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Errors returned by Fetch. They never contain the secret's value.
var (
	// ErrNotFound means Secrets Manager has no secret with that ID.
	ErrNotFound = errors.New("secret: not found")
	// ErrEmpty means the secret has no string value, or an empty one.
	ErrEmpty = errors.New("secret: empty")
	// ErrKeyNotFound means the secret is a JSON object without a non-empty
	// string under the requested key.
	ErrKeyNotFound = errors.New("secret: key not found")
)

// getter is the part of the Secrets Manager API that Fetch uses.
type getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Fetch returns the current value of the secret secretID (a name or ARN)
// using client, typically a *secretsmanager.Client.
//
// If jsonKey is non-empty and the SecretString is a JSON object, the value is
// the string under jsonKey (ErrKeyNotFound if it is missing, empty or not a
// string); otherwise the value is the whole SecretString, unmodified. It
// returns ErrNotFound if there is no such secret and ErrEmpty if the value is
// empty or the secret holds only binary data.
func Fetch(ctx context.Context, client getter, secretID, jsonKey string) (string, error) {
	value, err := get(ctx, client, secretID)
	if err != nil {
		return "", err
	}
	if jsonKey == "" {
		return value, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(value), &fields) != nil {
		return value, nil // a plain value, not a JSON object
	}
	var s string
	if json.Unmarshal(fields[jsonKey], &s) != nil || s == "" {
		return "", fmt.Errorf("secret: get %s key %q: %w", secretID, jsonKey, ErrKeyNotFound)
	}
	return s, nil
}

// FetchFields returns the string values under keys of the secret secretID,
// whose SecretString must be a JSON object, with one call to Secrets
// Manager. It returns ErrKeyNotFound if a key is missing, empty or not a
// string, and ErrNotFound and ErrEmpty as Fetch does.
func FetchFields(ctx context.Context, client getter, secretID string, keys ...string) (map[string]string, error) {
	value, err := get(ctx, client, secretID)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(value), &fields) != nil {
		return nil, fmt.Errorf("secret: get %s: %w: the value is not a JSON object", secretID, ErrKeyNotFound)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		var s string
		if json.Unmarshal(fields[k], &s) != nil || s == "" {
			return nil, fmt.Errorf("secret: get %s key %q: %w", secretID, k, ErrKeyNotFound)
		}
		out[k] = s
	}
	return out, nil
}

// get returns the non-empty SecretString of secretID.
func get(ctx context.Context, client getter, secretID string) (string, error) {
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &secretID})
	if err != nil {
		if notFound := (*types.ResourceNotFoundException)(nil); errors.As(err, &notFound) {
			return "", fmt.Errorf("secret: get %s: %w", secretID, ErrNotFound)
		}
		return "", fmt.Errorf("secret: get %s: %w", secretID, err)
	}
	if out.SecretString == nil || *out.SecretString == "" {
		return "", fmt.Errorf("secret: get %s: %w", secretID, ErrEmpty)
	}
	return *out.SecretString, nil
}
