package samtemplate_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// samconfig reads samconfig.toml's "key = value" lines by table, e.g.
// "prod.deploy.parameters" -> "capabilities" -> "CAPABILITY_IAM". The file
// uses only tables and one-line strings and booleans, so this is enough
// (and no TOML module is needed).
func samconfig(tb testing.TB) map[string]map[string]string {
	tb.Helper()
	f, err := os.Open(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]string{}
	table := ""
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			table = strings.Trim(line, "[]")
			out[table] = map[string]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				tb.Fatalf("samconfig.toml: cannot read %q", line)
			}
			if out[table] == nil {
				out[table] = map[string]string{}
			}
			out[table][strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return out
}

// Every environment deploys with the template's own parameters, and none
// carries a secret or a secret's ARN: those are given at deploy time.
func TestSamconfig(t *testing.T) {
	cfg := samconfig(t)
	if cfg[""]["version"] != "0.1" {
		t.Errorf("version = %q, want 0.1", cfg[""]["version"])
	}
	params := map[string]bool{}
	for _, p := range load(t).Parameters() {
		params[p.Name] = true
	}
	for _, env := range []string{"default", "dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			deploy := cfg[env+".deploy.parameters"]
			global := cfg[env+".global.parameters"]
			if global["stack_name"] == "" || global["region"] == "" {
				t.Errorf("[%s.global.parameters] lacks stack_name or region: %v", env, global)
			}
			if deploy["capabilities"] != "CAPABILITY_IAM" || deploy["resolve_s3"] != "true" {
				t.Errorf("[%s.deploy.parameters] capabilities %q, resolve_s3 %q", env, deploy["capabilities"], deploy["resolve_s3"])
			}
			for _, kv := range strings.Fields(deploy["parameter_overrides"]) {
				name, _, _ := strings.Cut(kv, "=")
				if !params[name] {
					t.Errorf("parameter_overrides sets %s, which template.yaml does not have", name)
				}
				if strings.Contains(strings.ToLower(name), "secret") || strings.Contains(kv, "arn:") {
					t.Errorf("parameter_overrides carries %s: secrets and their ARNs are given at deploy time", name)
				}
			}
		})
	}
	if cfg["prod.deploy.parameters"]["confirm_changeset"] != "true" {
		t.Error("prod deploys without confirming the change set")
	}
	if cfg["prod.global.parameters"]["stack_name"] == cfg["dev.global.parameters"]["stack_name"] {
		t.Error("dev and prod deploy the same stack")
	}
}
