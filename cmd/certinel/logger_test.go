package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// loggerFor is newLogger for the --zap-* flags args, writing to a buffer.
func loggerFor(t *testing.T, args ...string) (*bytes.Buffer, func(msg string, n int), func(err error, msg string)) {
	t.Helper()
	var o zap.Options
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := newLogger(o, &buf).WithName("keystore")
	info := func(msg string, n int) {
		for i := range n {
			log.Info(msg, "secret", "ns/app-tls", "i", i)
		}
	}
	return &buf, info, func(err error, msg string) { log.Error(err, msg) }
}

func lines(buf *bytes.Buffer) []string {
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func TestNewLoggerWritesEveryLine(t *testing.T) {
	buf, info, _ := loggerFor(t)
	info("wrote keystores", 1000)
	got := lines(buf)
	if len(got) != 1000 {
		t.Fatalf("1000 lines of the same message in a burst: %d written, want every one (no sampling)", len(got))
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(got[999]), &entry); err != nil {
		t.Fatalf("not JSON: %q: %v", got[999], err)
	}
	if entry["level"] != "info" || entry["msg"] != "wrote keystores" || entry["logger"] != "keystore" || entry["secret"] != "ns/app-tls" || entry["i"] != float64(999) {
		t.Errorf("entry %v: want level info, msg, logger and the key/values", entry)
	}
	if ts, _ := entry["ts"].(string); func() error { _, err := time.Parse(time.RFC3339, ts); return err }() != nil {
		t.Errorf("ts %q is not RFC 3339 (controller-runtime's default)", entry["ts"])
	}
}

func TestNewLoggerFollowsTheZapFlags(t *testing.T) {
	buf, info, fail := loggerFor(t, "--zap-log-level=error")
	info("wrote keystores", 3)
	if buf.Len() != 0 {
		t.Errorf("--zap-log-level=error wrote info lines: %q", buf.String())
	}
	fail(errors.New("boom"), "reconcile failed")
	var entry map[string]any
	if err := json.Unmarshal(buf.Bytes(), &entry); err != nil {
		t.Fatalf("not JSON: %q: %v", buf.String(), err)
	}
	if entry["level"] != "error" || entry["error"] != "boom" || entry["stacktrace"] == nil {
		t.Errorf("error entry %v: want level error, the error and a stacktrace", entry)
	}

	buf, info, _ = loggerFor(t, "--zap-encoder=console", "--zap-time-encoding=epoch")
	info("wrote keystores", 1)
	if line := buf.String(); json.Valid([]byte(line)) || !strings.Contains(line, "\tINFO\t") && !strings.Contains(line, "\tinfo\t") {
		t.Errorf("--zap-encoder=console wrote %q", line)
	}

	buf, info, _ = loggerFor(t, "--zap-devel")
	info("wrote keystores", 200)
	if n := len(lines(buf)); n != 200 {
		t.Errorf("--zap-devel wrote %d of 200 lines", n)
	}
}
