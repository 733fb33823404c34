package controllers

import (
	"context"
	"testing"

	routev1 "github.com/openshift/api/route/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/testutil"
)

// On a real API server: the Routes' own cache, started at certinel's start
// as on a standby (no manager runs it, no Routes controller is set up),
// keeps the set of Secrets that Routes read and the index from a Secret to
// its Routes. A Route that names a Secret makes it a pair source, and its
// deletion drops it.
func TestEnvRouteCacheWithoutController(t *testing.T) {
	s := startSuite(t)
	ns := s.namespace(t)
	pairs := NewPairSources()
	routes, err := cache.New(s.cfg, cache.Options{Scheme: s.client.Scheme(), DefaultTransform: CacheTransform(annotations.Compat{}, pairs)})
	if err != nil {
		t.Fatal(err)
	}
	r := &RouteReconciler{Routes: routes, Sources: NewSourceReader(s.client, s.client, nil).WithPairs(pairs)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 2 { // once started, it is not started again
		if err := r.StartCache(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rt := &routev1.Route{ObjectMeta: objectMeta("web", map[string]string{annotations.CertsFromSecret: "web-tls"}),
		Spec: routev1.RouteSpec{Host: "web.example.com", To: routev1.RouteTargetReference{Kind: "Service", Name: "web"}}}
	s.create(t, ns, rt)
	secret := &corev1.Secret{ObjectMeta: objectMeta("web-tls", nil)}
	secret.Namespace = ns
	testutil.Eventually(t, converge, func() string {
		if !pairs.Has(ns, "web-tls") {
			return "the Route's Secret is not a pair source"
		}
		if reqs := r.readers(ctx, secret); len(reqs) != 1 || reqs[0].Name != "web" || reqs[0].Namespace != ns {
			return "the index does not find the Route from its Secret"
		}
		return ""
	})
	if err := s.client.Delete(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, converge, func() string {
		if pairs.Has(ns, "web-tls") {
			return "the deleted Route's Secret is still a pair source"
		}
		return ""
	})
}
