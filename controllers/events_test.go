package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
)

func TestPacedEvents(t *testing.T) {
	inner := events.NewFakeRecorder(10)
	p := NewPacedEvents(inner, scheme.Scheme, 1000, 1, 2)
	p.Settle = 0 // other tests' writes do not hold these Events
	s := &corev1.Secret{ObjectMeta: objectMeta("web", nil), Data: map[string][]byte{"tls.key": []byte("secret key")}}
	dropped := testutil.ToFloat64(eventsDropped)
	p.Eventf(s, nil, corev1.EventTypeNormal, "KeystoresUpdated", "Write", "wrote %d stores", 2)
	p.Eventf(s, nil, corev1.EventTypeWarning, "MalformedPEM", "Validate", "bad %s", "tls.crt")
	p.Eventf(s, nil, corev1.EventTypeNormal, "Third", "Write", "no room")
	if got := testutil.ToFloat64(eventsDropped) - dropped; got != 1 {
		t.Fatalf("dropped %v Events with a queue of 2 and 3 Events, want 1", got)
	}
	// The queue holds a reference, not the Secret and its data.
	if e := p.queue[0]; e.ref.Name != "web" || e.ref.Kind != "Secret" || e.note != "wrote 2 stores" {
		t.Fatalf("queued %+v", e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Start(ctx) }()
	var got []string
	for len(got) < 2 {
		select {
		case e := <-inner.Events:
			got = append(got, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("Events written: %v", got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p.queue != nil {
		t.Errorf("a drained queue still holds %d slots", cap(p.queue))
	}
	if strings.Join(got, "|") != "Normal KeystoresUpdated wrote 2 stores|Warning MalformedPEM bad tls.crt" {
		t.Fatalf("Events = %q", got)
	}
	if p.NeedLeaderElection() {
		t.Error("a standby would never write its Events")
	}
}

// TestPacedEventsWaitForWritesToPause: an Event is written once certinel's
// writes have paused for Settle, or when it has waited MaxDelay while they
// go on; it is never lost.
func TestPacedEventsWaitForWritesToPause(t *testing.T) {
	inner := events.NewFakeRecorder(10)
	p := NewPacedEvents(inner, scheme.Scheme, 1000, 10, 10)
	// Settle is long beside the 20 ms between writes, so that a loaded
	// machine pausing the writing goroutine does not end the writes early.
	p.Settle, p.MaxDelay = time.Second, 2500*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = p.Start(ctx) }()
	s := &corev1.Secret{ObjectMeta: objectMeta("web", nil)}
	next := func() time.Duration {
		t.Helper()
		start := time.Now()
		select {
		case <-inner.Events:
			return time.Since(start)
		case <-time.After(20 * time.Second):
			t.Fatal("the Event was never written")
			return 0
		}
	}

	// Writes go on: the Event waits MaxDelay, then is written.
	writing, stop := context.WithCancel(ctx)
	noteWrite()
	go func() {
		for writing.Err() == nil {
			noteWrite()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	p.Eventf(s, nil, corev1.EventTypeNormal, "KeystoresUpdated", "Write", "during writes")
	if took := next(); took < p.MaxDelay-50*time.Millisecond {
		t.Fatalf("an Event was written %s after it was queued while writes went on, want about MaxDelay (%s)", took, p.MaxDelay)
	}
	stop()

	// One last write: the Event follows once writes have paused for Settle.
	noteWrite()
	last := time.Now()
	p.Eventf(s, nil, corev1.EventTypeNormal, "KeystoresUpdated", "Write", "after a write")
	next()
	if quiet := time.Since(last); quiet < p.Settle {
		t.Fatalf("an Event was written %s after the last write, want Settle (%s) at least", quiet, p.Settle)
	}
}
