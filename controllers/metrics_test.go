package controllers

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	got := MetricNames()
	for _, want := range []string{"certinel_invalid_input_total", "certinel_writes_total", "certinel_write_failures_total", "certinel_sources_held", "certinel_rollouts_total"} {
		if !slices.Contains(got, want) {
			t.Errorf("MetricNames() = %v, lacks %s", got, want)
		}
	}
	if len(got) != len(collectors) {
		t.Errorf("MetricNames() = %v: %d names for %d collectors", got, len(got), len(collectors))
	}
}
