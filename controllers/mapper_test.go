package controllers

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// countingMapper maps only Secrets, and counts what it is asked.
type countingMapper struct {
	meta.RESTMapper
	asked int
}

var secretKind = schema.GroupKind{Kind: "Secret"}

func (c *countingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	c.asked++
	if gk != secretKind {
		return nil, &meta.NoKindMatchError{GroupKind: gk, SearchedVersions: versions}
	}
	return &meta.RESTMapping{
		Resource:         schema.GroupVersionResource{Version: "v1", Resource: "secrets"},
		GroupVersionKind: schema.GroupVersionKind{Version: "v1", Kind: "Secret"},
		Scope:            meta.RESTScopeNamespace,
	}, nil
}

func TestCachedMappings(t *testing.T) {
	inner := &countingMapper{}
	m := CachedMappings(inner)

	first, err := m.RESTMapping(secretKind, "v1")
	if err != nil {
		t.Fatal(err)
	}
	first.Resource.Resource = "changed by a caller"
	second, err := m.RESTMapping(secretKind, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if inner.asked != 1 {
		t.Errorf("the inner mapper was asked %d times for one kind, want 1", inner.asked)
	}
	if second.Resource.Resource != "secrets" || second.Scope.Name() != meta.RESTScopeNameNamespace {
		t.Errorf("remembered mapping = %+v: a caller's change reached it, or it is wrong", second)
	}
	if _, err := m.RESTMapping(secretKind, "v2"); err != nil || inner.asked != 2 {
		t.Errorf("other versions are another question: err %v, asked %d, want nil, 2", err, inner.asked)
	}

	route := schema.GroupKind{Group: "route.openshift.io", Kind: "Route"}
	for range 2 {
		_, err := m.RESTMapping(route, "v1")
		var noMatch *meta.NoKindMatchError
		if !errors.As(err, &noMatch) {
			t.Fatalf("unknown kind: err %v, want the inner mapper's NoKindMatchError", err)
		}
	}
	if inner.asked != 4 {
		t.Errorf("a kind not found was remembered: inner asked %d times, want 4", inner.asked)
	}
}
