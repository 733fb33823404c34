package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

func applyIngress(t *testing.T, ns, name, tls string) {
	t.Helper()
	kubectl(t, fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: %s, namespace: %s}
spec:
  rules:
  - host: shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
  - host: app.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
%s`, name, ns, tls), "apply", "-f", "-")
}

// waitIngressTLS waits until spec.tls is want (secret name → hosts).
func waitIngressTLS(t *testing.T, ns, name string, want map[string][]string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() string {
		var ing networkingv1.Ingress
		if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &ing); err != nil {
			return err.Error()
		}
		got := map[string][]string{}
		for _, tls := range ing.Spec.TLS {
			got[tls.SecretName] = tls.Hosts
		}
		if len(got) != len(want) {
			return fmt.Sprintf("spec.tls %v, want %v", got, want)
		}
		for k, v := range want {
			if !slices.Equal(got[k], v) {
				return fmt.Sprintf("spec.tls %v, want %v", got, want)
			}
		}
		return ""
	})
}

func secretGone(t *testing.T, ns, name string) {
	t.Helper()
	testutil.Eventually(t, 60*time.Second, func() string {
		var s corev1.Secret
		if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &s); !apierrors.IsNotFound(err) {
			return "Secret " + name + " still exists"
		}
		return ""
	})
}

// An Ingress annotated with a Secret of its namespace gets a spec.tls entry
// for every rule host; the user's other entries stay.
func TestIngressSameNamespace(t *testing.T) {
	ns := namespace(t)
	applyTLSSecret(t, ns, "web-tls", newTLS(t, framework.SEC1), nil)
	applyIngress(t, ns, "web", "  tls: [{hosts: [legacy.example.com], secretName: legacy-tls}]\n")
	kubectl(t, "", "-n", ns, "annotate", "ingress", "web", "certinel.io/certs-from-secret=web-tls")
	waitIngressTLS(t, ns, "web", map[string][]string{"legacy-tls": {"legacy.example.com"}, "web-tls": {"app.example.com", "shop.example.com"}})
	mustContain(t, "Event", waitForEvent(t, ns, "web", "CertificateHostMismatch"), "shop.example.com")

	kubectl(t, "", "-n", ns, "annotate", "ingress", "web", "certinel.io/certs-from-secret-")
	waitIngressTLS(t, ns, "web", map[string][]string{"legacy-tls": {"legacy.example.com"}})

	t.Run("the user's own entry for the Secret stays theirs", func(t *testing.T) {
		applyIngress(t, ns, "own", "  tls: [{hosts: [app.example.com], secretName: web-tls}]\n")
		kubectl(t, "", "-n", ns, "annotate", "ingress", "own", "certinel.io/certs-from-secret=web-tls")
		time.Sleep(time.Second)
		kubectl(t, "", "-n", ns, "annotate", "ingress", "own", "certinel.io/certs-from-secret-")
		time.Sleep(time.Second)
		waitIngressTLS(t, ns, "own", map[string][]string{"web-tls": {"app.example.com"}})
	})
}

// A Secret of another namespace is mirrored only with its allow-export-to;
// the mirror follows renewals and goes with the opt-in, the annotation or
// the Ingress.
func TestIngressMirror(t *testing.T) {
	ns, pki := namespace(t), namespace(t)
	applyTLSSecret(t, pki, "wildcard", newTLS(t, framework.SEC1), map[string]string{"certinel.io/share-certificates-with": ns})
	applyIngress(t, ns, "web", "")
	kubectl(t, "", "-n", ns, "annotate", "ingress", "web", "certinel.io/certs-from-secret="+pki+"/wildcard")
	mustContain(t, "Event", waitForEvent(t, ns, "web", "SecretExportNotAllowed"), "certinel.io/allow-export-to")
	mirror := "web-certinel-" + pki + "-wildcard"
	var s corev1.Secret
	if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: mirror}, &s); !apierrors.IsNotFound(err) {
		t.Fatalf("a mirror exists without allow-export-to: %v", err)
	}

	kubectl(t, "", "-n", pki, "annotate", "secret", "wildcard", "certinel.io/allow-export-to="+ns)
	m := waitForKeys(t, ns, mirror, "tls.crt", "tls.key")
	if ref := m.OwnerReferences; len(ref) != 1 || ref[0].Kind != "Ingress" || ref[0].Name != "web" {
		t.Errorf("mirror owners %+v, want the Ingress", ref)
	}
	waitIngressTLS(t, ns, "web", map[string][]string{mirror: {"app.example.com", "shop.example.com"}})

	renewed := newTLS(t, framework.PKCS8)
	applyTLSSecret(t, pki, "wildcard", renewed, map[string]string{"certinel.io/allow-export-to": ns})
	testutil.Eventually(t, 30*time.Second, func() string {
		if string(getSecret(t, ns, mirror).Data["tls.key"]) != string(renewed.Key) {
			return "the mirror does not follow the renewal"
		}
		return ""
	})

	t.Run("a second Ingress gets its own mirror", func(t *testing.T) {
		applyIngress(t, ns, "shop", "")
		kubectl(t, "", "-n", ns, "annotate", "ingress", "shop", "certinel.io/certs-from-secret="+pki+"/wildcard")
		waitForKeys(t, ns, "shop-certinel-"+pki+"-wildcard", "tls.key")
		waitIngressTLS(t, ns, "shop", map[string][]string{"shop-certinel-" + pki + "-wildcard": {"app.example.com", "shop.example.com"}})
		kubectl(t, "", "-n", ns, "delete", "ingress", "shop")
		secretGone(t, ns, "shop-certinel-"+pki+"-wildcard")
		waitForKeys(t, ns, mirror, "tls.key") // the first Ingress keeps its own
	})
	t.Run("withdrawing the opt-in removes the mirror", func(t *testing.T) {
		kubectl(t, "", "-n", pki, "annotate", "secret", "wildcard", "certinel.io/allow-export-to-")
		secretGone(t, ns, mirror)
		kubectl(t, "", "-n", pki, "annotate", "secret", "wildcard", "certinel.io/allow-export-to=*")
		waitForKeys(t, ns, mirror, "tls.key")
	})
	t.Run("removing the annotation removes the mirror and the entry", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "annotate", "ingress", "web", "certinel.io/certs-from-secret-")
		secretGone(t, ns, mirror)
		waitIngressTLS(t, ns, "web", map[string][]string{})
	})
	t.Run("deleting the Ingress removes the mirror", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "annotate", "ingress", "web", "certinel.io/certs-from-secret="+pki+"/wildcard")
		waitForKeys(t, ns, mirror, "tls.key")
		kubectl(t, "", "-n", ns, "delete", "ingress", "web")
		secretGone(t, ns, mirror)
	})
}

// Once every kind of target is up to date, a quiet period and a restart of
// certinel write nothing: no object changes, and certinel_writes_total
// stays 0 for every controller after the restart.
func TestNoWritesWhenQuietOrRestarted(t *testing.T) {
	ns := namespace(t)
	tls := newTLS(t, framework.SEC1)
	applyTLSSecret(t, ns, "web-tls", tls, nil)
	kubectl(t, "", "-n", ns, "create", "secret", "generic", "root-ca", "--from-literal=ca.crt="+string(tls.CA))
	kubectl(t, "", "-n", ns, "create", "configmap", "trust", "--from-literal=other=keep")
	kubectl(t, "", "-n", ns, "annotate", "configmap", "trust", annInjectFrom+"=root-ca", "certinel.io/truststores=jks,pkcs12")
	kubectl(t, "", "-n", ns, "create", "secret", "generic", "empty")
	kubectl(t, "", "-n", ns, "annotate", "secret", "empty", annInjectFrom+"=root-ca")
	applyIngress(t, ns, "shop", "")
	kubectl(t, "", "-n", ns, "annotate", "ingress", "shop", "certinel.io/certs-from-secret=web-tls")
	applyRoute(t, ns, "web", "app.example.com", "")
	kubectl(t, "", "-n", ns, "annotate", "route", "web", "certinel.io/certs-from-secret=web-tls")
	waitForKeys(t, ns, "empty", "ca.crt")
	waitIngressTLS(t, ns, "shop", map[string][]string{"web-tls": {"app.example.com", "shop.example.com"}})
	waitRoute(t, ns, "web", func(c *routev1.TLSConfig) string {
		if c == nil || c.Certificate == "" {
			return "Route not filled"
		}
		return ""
	})
	testutil.Eventually(t, 30*time.Second, func() string {
		u := getObject(t, configMapGVK, ns, "trust")
		if bin, _, _ := unstructured.NestedStringMap(u.Object, "binaryData"); len(bin) != 2 {
			return "no truststores yet"
		}
		return ""
	})

	objects := []struct {
		gvk  schema.GroupVersionKind
		name string
	}{
		{configMapGVK, "trust"}, {schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, "empty"},
		{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, "shop"},
		{schema.GroupVersionKind{Group: "route.openshift.io", Version: "v1", Kind: "Route"}, "web"},
	}
	versions := func() map[string]string {
		out := map[string]string{}
		for _, o := range objects {
			out[o.gvk.Kind+"/"+o.name] = getObject(t, o.gvk, ns, o.name).GetResourceVersion()
		}
		return out
	}
	before := versions()
	time.Sleep(2 * time.Second)
	certinel.Stop()
	if err := certinel.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitInjectIdle(t, "configmap", "secret")
	for _, c := range []string{"routes", "ingresses"} {
		waitControllerIdle(t, c, 1)
	}
	if after := versions(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("objects were written while quiet or across the restart:\nbefore %v\nafter  %v", before, after)
	}
	if w := metric(t, "certinel_writes_total"); w != 0 {
		t.Errorf("certinel_writes_total = %v after the restart, want 0", w)
	}
}
