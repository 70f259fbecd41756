package lambdatest_test

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/finance/fbdi-notify/internal/testing/lambdatest"
)

// maxBootstrapBytes is the size budget of one deployed bootstrap: 10 MB,
// counted as `make sizes` counts them (MB of 2^20 bytes). A bigger binary
// is a bigger upload and a slower cold start.
const maxBootstrapBytes = 10 << 20

// SAM builds every function of template.yaml with `make build-<LogicalId>
// ARTIFACTS_DIR=...` (BuildMethod makefile). Running those very targets
// proves each gives what provided.al2023 on arm64 runs: a static linux/arm64
// executable named bootstrap, stripped (-s -w), built with -tags
// lambda.norpc and -trimpath, within the size budget.
//
// Cross-compiling the AWS SDK takes a while on a cold build cache, so this
// runs where the other tests of the package run, under `make test` (RIE
// set) and CI.
func TestMakefileBuildsArm64Bootstraps(t *testing.T) {
	if os.Getenv(lambdatest.EnvRIE) == "" && os.Getenv("CI") == "" {
		t.Skip("builds every function for arm64: run with `make test` (which sets RIE), as CI does")
	}
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go") // `go test` puts its toolchain first in PATH
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	// A parent make (make test) must not hand its jobserver to this one.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "MAKEFLAGS=") || strings.HasPrefix(kv, "MFLAGS=") || strings.HasPrefix(kv, "MAKELEVEL=")
	})

	functions := template(t).Functions()
	if len(functions) == 0 {
		t.Fatal("template.yaml has no functions")
	}
	for _, fn := range functions {
		t.Run(fn.LogicalID, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(makeBin, "--no-print-directory", "build-"+fn.LogicalID, "ARTIFACTS_DIR="+dir, "GO="+goBin)
			cmd.Dir, cmd.Env = repo, env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", fn.LogicalID, err, out)
			}
			path := filepath.Join(dir, "bootstrap")
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: arm64 bootstrap from the Makefile: %s", fn.LogicalID, size(info.Size()))
			if info.Size() > maxBootstrapBytes {
				t.Errorf("%s is %s, over the budget of %s", fn.LogicalID, size(info.Size()), size(maxBootstrapBytes))
			}
			checkELF(t, path)
			checkBuildInfo(t, path, strings.ToLower(strings.TrimSuffix(fn.LogicalID, "Function")))
		})
	}
}

// exercised lists the functions/<dir> whose bootstraps the tests of this
// package run under the emulator.
var exercised = []string{"connect", "disconnect", "message", "welcome", "notify", "worker", "sweeper", "mail"}

// Every function of template.yaml has its bootstrap run under the emulator
// by a test of this package: a new function needs its test here.
func TestEveryFunctionIsExercised(t *testing.T) {
	for _, fn := range template(t).Functions() {
		if dir := strings.ToLower(strings.TrimSuffix(fn.LogicalID, "Function")); !slices.Contains(exercised, dir) {
			t.Errorf("%s (functions/%s) has no test under the emulator", fn.LogicalID, dir)
		}
	}
}

// checkELF checks that path is a static, stripped linux/arm64 executable.
func checkELF(tb testing.TB, path string) {
	tb.Helper()
	f, err := elf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
		tb.Errorf("ELF %v %v %v, want a 64-bit arm64 executable", f.Class, f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			tb.Errorf("dynamically linked (%v): want a static binary", p.Type)
		}
	}
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			tb.Errorf("section %s present: want the symbol table (-s) and DWARF (-w) stripped", s.Name)
		}
	}
}

// checkBuildInfo checks that path is functions/<dir> of this module, built
// as the Makefile promises.
func checkBuildInfo(tb testing.TB, path, dir string) {
	tb.Helper()
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if want := bi.Main.Path + "/functions/" + dir; bi.Path != want {
		tb.Errorf("main package %s, want %s", bi.Path, want)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0",
		"-tags": "lambda.norpc", "-trimpath": "true"} {
		if settings[k] != want {
			tb.Errorf("build setting %s=%q, want %q", k, settings[k], want)
		}
	}
}
