package controllers

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	"github.com/certinel/certinel/pkg/badinput"
)

func TestMetricNames(t *testing.T) {
	got := MetricNames()
	for _, want := range []string{"certinel_invalid_input_total", "certinel_warnings_total", "certinel_writes_total", "certinel_write_failures_total", "certinel_sources_held", "certinel_rollouts_total",
		"certinel_certificate_not_after_timestamp_seconds", "certinel_certificate_not_before_timestamp_seconds"} {
		if !slices.Contains(got, want) {
			t.Errorf("MetricNames() = %v, lacks %s", got, want)
		}
	}
	// Every collector exports one family, but the validity collector two.
	if len(got) != len(collectors)+1 {
		t.Errorf("MetricNames() = %v: %d names for %d collectors", got, len(got), len(collectors))
	}
}

// Every Warning counts in certinel_warnings_total by its reason, bad input
// or not; a Normal Event does not.
func TestEmitCountsWarnings(t *testing.T) {
	count := func(reason string) float64 {
		v, _ := registryValue(t, "certinel_warnings_total", map[string]string{"reason": reason})
		return v
	}
	obj := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "s"}}
	rec := events.NewFakeRecorder(10)
	before := count(badinput.PlaintextPassword)
	emit(rec, obj, corev1.EventTypeWarning, badinput.PlaintextPassword, "Write", "in clear")
	emit(rec, obj, corev1.EventTypeNormal, ReasonKeystoresUpdated, "Write", "wrote keystore.jks")
	if got := count(badinput.PlaintextPassword) - before; got != 1 {
		t.Errorf("certinel_warnings_total{reason=%q} went up by %v, want 1", badinput.PlaintextPassword, got)
	}
	if v, ok := registryValue(t, "certinel_warnings_total", map[string]string{"reason": ReasonKeystoresUpdated}); ok {
		t.Errorf("a Normal Event counts as a Warning: %v", v)
	}
	if got := drainEvents(rec); len(got) != 2 {
		t.Errorf("recorded %v, want both Events", got)
	}
}
