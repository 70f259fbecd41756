//go:build !linux

package lambdatest

import (
	"os"
	"os/exec"
)

// setProcessGroup does nothing: Start runs the emulator on Linux only.
func setProcessGroup(*exec.Cmd) {}

// killProcessTree kills pid.
func killProcessTree(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
