package fbdinotify_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/finance/fbdi-notify/"

// role names the part of the tree a package of this module belongs to.
func role(pkg string) string {
	rel := strings.TrimPrefix(pkg, module)
	switch {
	case strings.HasPrefix(rel, "internal/local/") || strings.HasPrefix(rel, "infra/"):
		return "local stack"
	case strings.HasPrefix(rel, "internal/testing/") || strings.HasSuffix(rel, "test"):
		return "test helper"
	case rel == strings.TrimSuffix(module, "/"):
		return "local stack" // the root package embeds template.yaml for the local stack
	default:
		return "ships"
	}
}

// goList returns, for each package matching patterns, the packages of this
// module it links (its dependency graph, itself included; test files are
// not part of it).
func goList(t *testing.T, patterns ...string) map[string][]string {
	t.Helper()
	args := append([]string{"list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, patterns...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		for _, dep := range fields[1:] {
			if strings.HasPrefix(dep, module) {
				graph[fields[0]] = append(graph[fields[0]], dep)
			}
		}
		if _, ok := graph[fields[0]]; !ok {
			graph[fields[0]] = nil
		}
	}
	return graph
}

// What a Lambda bootstrap links is what ships: the code of internal/<concept>.
// No function may link the local stack's emulators (internal/local/...) or a
// test helper (internal/testing/..., or any package named ...test), and no
// package that ships may import one, so the tree says what runs on AWS.
func TestShippedCodeLinksNoEmulatorOrTestHelper(t *testing.T) {
	functions := goList(t, "./functions/...")
	if len(functions) < 6 {
		t.Fatalf("go list ./functions/... found %d functions, want at least 6", len(functions))
	}
	for fn, deps := range functions {
		if len(deps) == 0 {
			t.Errorf("%s links no package of this module: is the graph read right?", fn)
		}
		for _, dep := range deps {
			if r := role(dep); r != "ships" {
				t.Errorf("%s links %s, a %s package", fn, dep, r)
			}
		}
	}
	for pkg, deps := range goList(t, "./internal/...") {
		if role(pkg) != "ships" {
			continue
		}
		for _, dep := range deps {
			if r := role(dep); r != "ships" {
				t.Errorf("%s ships in bootstraps but imports %s, a %s package", pkg, dep, r)
			}
		}
	}
}

// The rule above is only as good as role's reading of the tree.
func TestRoleOfEachPart(t *testing.T) {
	tests := []struct {
		name string
		pkg  string
		want string
	}{
		{name: "a concept", pkg: module + "internal/notifier", want: "ships"},
		{name: "a function", pkg: module + "functions/notify", want: "ships"},
		{name: "the gateway emulator", pkg: module + "internal/local/apigw", want: "local stack"},
		{name: "the local stack's main", pkg: module + "infra/local", want: "local stack"},
		{name: "the embedded template", pkg: strings.TrimSuffix(module, "/"), want: "local stack"},
		{name: "a shared test helper", pkg: module + "internal/testing/awstest", want: "test helper"},
		{name: "a contract suite beside its concept", pkg: module + "internal/connection/connectiontest", want: "test helper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := role(tt.pkg); got != tt.want {
				t.Errorf("role(%s) = %q, want %q", tt.pkg, got, tt.want)
			}
		})
	}
}
