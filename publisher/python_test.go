package publisher_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestPython runs the Python package's tests (publisher/python/tests), so
// that `make test` runs them too: against moto_server when MOTO_ENDPOINT is
// set, and against a local stack they build and start. It fails, never
// skips, when python3 is missing.
func TestPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to test publisher/python: %v", err)
	}
	cmd := exec.Command(python, "-m", "unittest", "discover", "-s", "python/tests", "-v")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1") // no __pycache__ left in the tree
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
