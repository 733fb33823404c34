package controllers

import (
	"context"
	"slices"
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
	s := &corev1.Secret{ObjectMeta: objectMeta("web", nil), Data: map[string][]byte{"tls.key": []byte("secret key")}}
	dropped := testutil.ToFloat64(eventsDropped)
	p.Eventf(s, nil, corev1.EventTypeNormal, "KeystoresUpdated", "Write", "wrote %d stores", 2)
	p.Eventf(s, nil, corev1.EventTypeWarning, "MalformedPEM", "Validate", "bad %s", "tls.crt")
	p.Eventf(s, nil, corev1.EventTypeNormal, "Third", "Write", "no room")
	if got := testutil.ToFloat64(eventsDropped) - dropped; got != 1 {
		t.Fatalf("dropped %v Events with a queue of 2 and 3 Events, want 1", got)
	}
	// The queue holds a reference, not the Secret and its data.
	if e := <-p.queue; e.ref.Name != "web" || e.ref.Kind != "Secret" || e.note != "wrote 2 stores" {
		t.Fatalf("queued %+v", e)
	} else {
		p.queue <- e
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
	slices.Sort(got) // the peek above put the first one last
	if strings.Join(got, "|") != "Normal KeystoresUpdated wrote 2 stores|Warning MalformedPEM bad tls.crt" {
		t.Fatalf("Events = %q", got)
	}
	if p.NeedLeaderElection() {
		t.Error("a standby would never write its Events")
	}
}
