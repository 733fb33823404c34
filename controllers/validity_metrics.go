package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// validityCollector exports the validity of the certificates of monitored
// Secrets (section 5). It keeps two numbers per data key and makes the
// samples when Prometheus scrapes, as kube-state-metrics does: a GaugeVec
// would keep a child with its label pairs per series, about half a
// kilobyte each, so that the 10000 TLS Secrets of a cert-manager cluster
// would hold 20 MB of series between scrapes.
type validityCollector struct {
	notAfter, notBefore *prometheus.Desc

	mu     sync.RWMutex
	secret map[types.NamespacedName][]validitySeries
}

// validitySeries is the validity of the first certificate of one data key,
// in Unix seconds.
type validitySeries struct {
	key                 string
	notAfter, notBefore int64
}

func newValidityCollector() *validityCollector {
	labels := []string{"namespace", "secret", "key"}
	return &validityCollector{
		notAfter: prometheus.NewDesc("certinel_certificate_not_after_timestamp_seconds",
			"When the first certificate of a data key of a monitored Secret expires, in Unix seconds.", labels, nil),
		notBefore: prometheus.NewDesc("certinel_certificate_not_before_timestamp_seconds",
			"When the first certificate of a data key of a monitored Secret became valid, in Unix seconds.", labels, nil),
		secret: map[types.NamespacedName][]validitySeries{},
	}
}

// set makes series the whole set of a Secret's series; none removes them.
func (c *validityCollector) set(name types.NamespacedName, series []validitySeries) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(series) == 0 {
		delete(c.secret, name)
	} else {
		c.secret[name] = series
	}
}

// Describe implements prometheus.Collector.
func (c *validityCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.notAfter
	ch <- c.notBefore
}

// Collect implements prometheus.Collector.
func (c *validityCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for name, series := range c.secret {
		for _, s := range series {
			ch <- prometheus.MustNewConstMetric(c.notAfter, prometheus.GaugeValue, float64(s.notAfter), name.Namespace, name.Name, s.key)
			ch <- prometheus.MustNewConstMetric(c.notBefore, prometheus.GaugeValue, float64(s.notBefore), name.Namespace, name.Name, s.key)
		}
	}
}
