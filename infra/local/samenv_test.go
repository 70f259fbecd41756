package main

import (
	"testing"

	fbdinotify "github.com/finance/fbdi-notify"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
)

// samEnv sets, for each function, exactly the declared variables the stack
// has a value for, with 127.0.0.1 replaced by the host asked for.
func TestSAMEnv(t *testing.T) {
	tmpl, err := samtemplate.Parse(fbdinotify.Template)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{
		"CONNECTIONS_TABLE":   "p-connections",
		"MANAGEMENT_ENDPOINT": "http://127.0.0.1:3001",
		"AWS_ENDPOINT_URL":    "http://127.0.0.1:5000",
		"NOT_DECLARED":        "x",
	}
	tests := []struct {
		name, host string
		want       map[string]map[string]string
	}{
		{name: "as is", want: map[string]map[string]string{
			"DisconnectFunction": {"CONNECTIONS_TABLE": "p-connections", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"},
			"WelcomeFunction": {"MANAGEMENT_ENDPOINT": "http://127.0.0.1:3001", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
				"CONNECTIONS_TABLE": "p-connections"},
		}},
		{name: "Docker Desktop", host: "host.docker.internal", want: map[string]map[string]string{
			"DisconnectFunction": {"CONNECTIONS_TABLE": "p-connections", "AWS_ENDPOINT_URL": "http://host.docker.internal:5000"},
			"WelcomeFunction": {"MANAGEMENT_ENDPOINT": "http://host.docker.internal:3001", "AWS_ENDPOINT_URL": "http://host.docker.internal:5000",
				"CONNECTIONS_TABLE": "p-connections"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := samEnv(tmpl, values, tt.host)
			if len(got) != len(tmpl.Functions()) {
				t.Errorf("%d functions, want every one of the template's %d", len(got), len(tmpl.Functions()))
			}
			for fn, want := range tt.want {
				if len(got[fn]) != len(want) {
					t.Errorf("%s = %v, want %v", fn, got[fn], want)
				}
				for k, v := range want {
					if got[fn][k] != v {
						t.Errorf("%s %s = %q, want %q", fn, k, got[fn][k], v)
					}
				}
			}
			for fn, env := range got {
				if _, ok := env["NOT_DECLARED"]; ok {
					t.Errorf("%s gets a variable the template does not declare (SAM would ignore it)", fn)
				}
			}
		})
	}
}
