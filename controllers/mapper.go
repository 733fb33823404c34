package controllers

import (
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CachedMappings remembers the REST mappings m finds, as controller-runtime's
// typed client remembers the resource of each kind it writes. Without it,
// every write through the metadata client (a keystore patch, a Route or
// caBundle apply) asked controller-runtime's dynamic mapper again, which
// tries every API group and builds a "no match" error for each: about
// 10 KB of garbage per write, 6% of certinel's allocations at a cold start
// of 1000 keystores. Failures are not remembered, so a kind that appears
// later (a CRD installed after start) is found as before; like the typed
// client's, a remembered mapping outlives the deletion of its CRD, whose
// objects then answer NotFound.
func CachedMappings(m meta.RESTMapper) meta.RESTMapper {
	return &cachedMappings{RESTMapper: m}
}

type cachedMappings struct {
	meta.RESTMapper
	found sync.Map // mappingKey -> meta.RESTMapping
}

type mappingKey struct {
	kind     schema.GroupKind
	versions string
}

func (c *cachedMappings) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	key := mappingKey{gk, strings.Join(versions, ",")}
	if v, ok := c.found.Load(key); ok {
		m := v.(meta.RESTMapping) // a copy each time: no caller can change another's
		return &m, nil
	}
	m, err := c.RESTMapper.RESTMapping(gk, versions...)
	if err != nil {
		return nil, err
	}
	c.found.Store(key, *m)
	return m, nil
}
