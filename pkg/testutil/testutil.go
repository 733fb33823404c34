// Package testutil holds small helpers shared by the tests of several
// packages (controllers, cmd, e2e). It is imported only from _test.go files.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Eventually polls cond every 100ms until it returns "" or timeout passes;
// the last message it returned explains the failure.
func Eventually(t testing.TB, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WriteFile writes data to a file name in a new temporary directory of the
// test and returns its path.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
