package controllers

import (
	"regexp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	invalidInputs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certinel_invalid_input_total",
		Help: "Reconciles that stopped on bad user input, by controller and Event reason.",
	}, []string{"controller", "reason"})
	warnings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certinel_warnings_total",
		Help: "Warning Events certinel gave, by reason: bad input, and the Warnings given beside a write or about a certificate's dates.",
	}, []string{"reason"})
	writes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certinel_writes_total",
		Help: "Objects certinel created, patched or deleted, by controller and verb; only writes that succeeded.",
	}, []string{"controller", "verb"})
	sourcesHeld = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "certinel_sources_held",
		Help: "Referenced Secrets and ConfigMaps whose parsed certificates or password certinel holds, because an annotated object reads them.",
	})
	rollouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certinel_rollouts_total",
		Help: "Rollouts of workloads by kind and result: rolled, held-keystores, held-rate-limit, failed.",
	}, []string{"kind", "result"})
	certificateValidity   = newValidityCollector()
	certificateReadErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certinel_certificate_read_errors_total",
		Help: "Versions of monitored Secrets whose data key holds no readable certificate; such keys export no dates.",
	}, []string{"namespace", "secret", "key"})
	eventsDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "certinel_events_dropped_total",
		Help: "Events certinel dropped because its queue of Events to write was full.",
	})
	writeFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certinel_write_failures_total",
		Help: "Writes the API server refused or that failed, by controller and verb.",
	}, []string{"controller", "verb"})
)

// collectors are certinel's own metrics, registered together: a new metric
// goes here, so that MetricNames (which the tests of the Helm chart's
// PrometheusRule and Grafana dashboard read) names it too.
var collectors = []prometheus.Collector{invalidInputs, warnings, writes, writeFailures, sourcesHeld, rollouts, eventsDropped,
	certificateValidity, certificateReadErrors}

func init() {
	metrics.Registry.MustRegister(collectors...)
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// MetricNames returns the names of the metric families certinel itself
// exports (not controller-runtime's), sorted, whether or not they have a
// sample yet.
func MetricNames() []string {
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, c := range collectors {
			c.Describe(ch)
		}
		close(ch)
	}()
	var names []string
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
