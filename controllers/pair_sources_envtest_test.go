package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/testutil"
)

// On a real API server: the cache keeps the TLS keys of a Secret while an
// Ingress of its namespace names it (from the Secret's next change on), the
// Ingress gets its TLS entry, and once the Ingress is deleted the Secret's
// next version is cached without its data again.
func TestEnvIngressSecretKeptWhileNamed(t *testing.T) {
	s := startSuite(t)
	ns := s.namespace(t)
	tls := newTLS(t, "app")
	secret := tlsSecret("web-tls", tls, nil)
	secret.Data["other"] = []byte("never kept")
	s.create(t, ns, secret)
	cached := func() *corev1.Secret {
		var c corev1.Secret
		if err := s.hooks.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web-tls"}, &c); err != nil {
			return nil
		}
		return &c
	}
	waitCached := func(want []string, why string) {
		t.Helper()
		testutil.Eventually(t, converge, func() string {
			c := cached()
			if c == nil {
				return "the Secret is not in the cache"
			}
			if got := dataKeys(c); !slices.Equal(got, want) {
				return fmt.Sprintf("%s: cached keys %v", why, got)
			}
			return ""
		})
	}
	waitCached(nil, "an unnamed TLS Secret is cached without its data")

	pathType := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{ObjectMeta: objectMeta("shop", map[string]string{annotations.CertsFromSecret: "web-tls"}),
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "app.example.com", IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pathType,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 443}}}}}}}}}}}
	s.create(t, ns, ing)
	testutil.Eventually(t, converge, func() string {
		if !s.pairs.Has(ns, "web-tls") {
			return "the Ingress's Secret is not a pair source"
		}
		return ""
	})
	s.updateSecret(t, ns, "web-tls", func(sec *corev1.Secret) { sec.Labels = map[string]string{"renewed": "1"} })
	waitCached([]string{"ca.crt", "tls.crt", "tls.key"}, "the next version of a named Secret keeps its TLS keys, and only them")
	testutil.Eventually(t, converge, func() string {
		var got networkingv1.Ingress
		if err := s.client.Get(context.Background(), client.ObjectKeyFromObject(ing), &got); err != nil {
			return err.Error()
		}
		if len(got.Spec.TLS) != 1 || got.Spec.TLS[0].SecretName != "web-tls" {
			return "the Ingress has no TLS entry for web-tls"
		}
		return ""
	})

	if err := s.client.Delete(context.Background(), ing); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, converge, func() string {
		if s.pairs.Has(ns, "web-tls") {
			return "the deleted Ingress's Secret is still a pair source"
		}
		return ""
	})
	s.updateSecret(t, ns, "web-tls", func(sec *corev1.Secret) { sec.Labels["renewed"] = "2" })
	waitCached(nil, "once no Ingress names it, the Secret's next version is cached without its data")
}
