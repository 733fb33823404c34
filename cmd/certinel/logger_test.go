package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// zapOptions are the options of the --zap-* flags args.
func zapOptions(t *testing.T, args ...string) zap.Options {
	t.Helper()
	var o zap.Options
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

// loggerFor is newLogger for the --zap-* flags args, writing to a buffer.
func loggerFor(t *testing.T, args ...string) (*bytes.Buffer, func(msg string, n int), func(err error, msg string)) {
	t.Helper()
	var buf bytes.Buffer
	log := newLogger(zapOptions(t, args...), &buf).WithName("keystore")
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

// logBoth runs the same calls on newLogger's logger for the --zap-* flags
// args, once as it is and once behind deferValues, and returns each one's
// lines. Both run from the same lines of exercise: callers and stack
// traces compare.
func logBoth(t *testing.T, exercise func(logr.Logger), args ...string) (eager, deferred []string) {
	t.Helper()
	o := zapOptions(t, args...)
	var out [2][]string
	for i, wrap := range []func(logr.Logger) logr.Logger{func(l logr.Logger) logr.Logger { return l }, deferValues} {
		var buf bytes.Buffer
		exercise(wrap(newLogger(o, &buf)))
		out[i] = lines(&buf)
	}
	return out[0], out[1]
}

func TestDeferredValuesWriteTheSameLines(t *testing.T) {
	exercise := func(l logr.Logger) {
		l = l.WithName("controller").WithValues("controller", "keystores", "namespace", "ns").WithName("keystores")
		r := l.WithValues("reconcileID", "6f1c")
		r.Info("wrote keystores", "keys", []string{"keystore.jks"})
		r.V(1).Info("up to date")
		r.V(5).Info("not written at the default level")
		r.Error(errors.New("boom"), "reconcile failed", "attempt", 2)
		l.WithCallDepth(0).Info("no reconcileID")
	}
	for _, args := range [][]string{nil, {"--zap-log-level=debug"}, {"--zap-encoder=console"}, {"--zap-devel"}} {
		eager, deferred := logBoth(t, exercise, args...)
		if len(eager) < 3 || len(eager) != len(deferred) {
			t.Fatalf("%v: %d lines behind deferValues, %d without:\n%s\n%s", args, len(deferred), len(eager), strings.Join(deferred, "\n"), strings.Join(eager, "\n"))
		}
		for i := range eager {
			if want, got := withoutTime(t, eager[i]), withoutTime(t, deferred[i]); got != want {
				t.Errorf("%v line %d:\n got %s\nwant %s", args, i, got, want)
			}
		}
	}
}

// withoutTime is a log line without its time, as JSON with sorted keys
// when it is JSON (deferred values come after a numeric "v", not before).
func withoutTime(t *testing.T, line string) string {
	var entry map[string]any
	if err := json.Unmarshal([]byte(line), &entry); err != nil {
		_, rest, _ := strings.Cut(line, "\t") // console: the time, then a tab
		return rest
	}
	delete(entry, "ts")
	b, err := json.Marshal(entry)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeferredValuesAreEachLoggersOwn(t *testing.T) {
	var buf bytes.Buffer
	base := deferValues(newLogger(zap.Options{}, &buf)).WithValues("a", 1)
	kv := []any{"k", "before"}
	reused := base.WithValues(kv...)
	kv[1] = "after"
	base.WithValues("b", 2).Info("one")
	base.WithValues("c", 3).Info("two")
	reused.Info("three")
	want := []string{`"a":1,"b":2}`, `"a":1,"c":3}`, `"a":1,"k":"before"}`}
	for i, line := range lines(&buf) {
		if !strings.HasSuffix(line, want[i]) {
			t.Errorf("line %d: %s, want it to end in %s", i, line, want[i])
		}
	}
}

// TestDeferredValuesAllocateLess compares the bytes a logger with
// controller-runtime's per-reconcile values costs when nothing is logged.
func TestDeferredValuesAllocateLess(t *testing.T) {
	perLogger := func(l logr.Logger) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 1000 {
			l.WithValues("controller", "keystores", "namespace", "ns", "name", "app-tls").WithValues("reconcileID", "6f1c").V(1).Info("not written")
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / 1000
	}
	eager := perLogger(newLogger(zap.Options{}, io.Discard))
	deferred := perLogger(deferValues(newLogger(zap.Options{}, io.Discard)))
	t.Logf("bytes allocated per logger: %d with zap's WithValues, %d with deferred values", eager, deferred)
	if deferred*4 > eager {
		t.Errorf("deferred values allocate %d bytes per logger, zap's WithValues %d: want at most a quarter", deferred, eager)
	}
}
