package controllers

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	got := MetricNames()
	for _, want := range []string{"certinel_invalid_input_total", "certinel_writes_total", "certinel_write_failures_total", "certinel_sources_held", "certinel_rollouts_total",
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
