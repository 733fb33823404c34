package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/testutil"
)

func applyRoute(t *testing.T, ns, name, host, tls string) {
	t.Helper()
	kubectl(t, fmt.Sprintf("apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: %s, namespace: %s}\nspec:\n  host: %s\n  to: {kind: Service, name: web}\n%s",
		name, ns, host, tls), "apply", "-f", "-")
}

func getRoute(t *testing.T, ns, name string) *routev1.Route {
	t.Helper()
	var rt routev1.Route
	if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &rt); err != nil {
		t.Fatal(err)
	}
	return &rt
}

// waitRoute waits until check accepts the Route's spec.tls.
func waitRoute(t *testing.T, ns, name string, check func(tls *routev1.TLSConfig) string) *routev1.Route {
	t.Helper()
	var rt *routev1.Route
	testutil.Eventually(t, 30*time.Second, func() string {
		rt = getRoute(t, ns, name)
		return check(rt.Spec.TLS)
	})
	return rt
}

// leafOf is the common name of the first certificate of PEM data.
func leafOf(data string) string {
	certs, err := pki.ParseCertificates([]byte(data))
	if err != nil {
		return ""
	}
	return certs[0].Subject.CommonName + fmt.Sprintf("#%x", certs[0].SerialNumber)
}

// `kubectl annotate route r certinel.io/certs-from-secret=s` fills the
// Route from the Secret and follows its renewals; removing the annotation
// takes back exactly what certinel set.
func TestRouteFromSecret(t *testing.T) {
	ns := namespace(t)
	tls := newTLS(t, framework.SEC1)
	applyTLSSecret(t, ns, "web-tls", tls, nil)
	applyRoute(t, ns, "web", "app.example.com", "")
	kubectl(t, "", "-n", ns, "annotate", "route", "web", "certinel.io/certs-from-secret=web-tls")
	filled := func(want *framework.TLS) func(*routev1.TLSConfig) string {
		return func(c *routev1.TLSConfig) string {
			if c == nil || c.Termination != routev1.TLSTerminationEdge || leafOf(c.Certificate) != leafOf(string(want.Cert)) ||
				strings.TrimSpace(c.Key) != strings.TrimSpace(string(want.Key)) {
				return fmt.Sprintf("spec.tls %+v", c)
			}
			cas, _ := pki.ParseCertificates([]byte(c.CACertificate))
			if len(cas) != 2 { // the intermediate of tls.crt and the root of ca.crt
				return fmt.Sprintf("caCertificate holds %d certificates, want 2", len(cas))
			}
			return ""
		}
	}
	waitRoute(t, ns, "web", filled(tls))
	waitForEvent(t, ns, "web", "RouteUpdated")

	renewed := newTLS(t, framework.PKCS1)
	applyTLSSecret(t, ns, "web-tls", renewed, nil)
	start := time.Now()
	rt := waitRoute(t, ns, "web", filled(renewed))
	t.Logf("the Route followed the renewal %v after kubectl apply", time.Since(start).Round(time.Millisecond))

	t.Run("nothing is written while quiet or across a restart", func(t *testing.T) {
		time.Sleep(time.Second)
		certinel.Stop()
		if err := certinel.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitControllerIdle(t, "routes", 1)
		if got := getRoute(t, ns, "web").ResourceVersion; got != rt.ResourceVersion {
			t.Errorf("the Route was written: resourceVersion %s → %s", rt.ResourceVersion, got)
		}
	})

	t.Run("a termination the user changes is theirs", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "patch", "route", "web", "--type=merge", "-p", `{"spec":{"tls":{"termination":"reencrypt"}}}`)
		time.Sleep(2 * time.Second)
		if got := getRoute(t, ns, "web").Spec.TLS.Termination; got != routev1.TLSTerminationReencrypt {
			t.Fatalf("termination %q: certinel took back the user's change", got)
		}
	})

	t.Run("removing the annotation removes certinel's fields", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "annotate", "route", "web", "certinel.io/certs-from-secret-")
		waitRoute(t, ns, "web", func(c *routev1.TLSConfig) string {
			// the termination is the user's since they changed it
			if c == nil || c.Certificate != "" || c.Key != "" || c.CACertificate != "" || c.Termination != routev1.TLSTerminationReencrypt {
				return fmt.Sprintf("spec.tls %+v, want only the user's termination", c)
			}
			return ""
		})
		if _, ok := getRoute(t, ns, "web").Annotations["certinel.io/managed-fields"]; ok {
			t.Error("certinel.io/managed-fields is still there")
		}
	})
}

// A reencrypt Route annotated only for its destination CA keeps its own
// certificate and key, and keeps them when the annotation goes.
func TestRouteDestinationCAKeepsOwnCertificate(t *testing.T) {
	ns := namespace(t)
	own, backend := newTLS(t, framework.SEC1), newTLS(t, framework.SEC1)
	kubectl(t, "", "-n", ns, "create", "secret", "generic", "backend-ca", "--from-literal=ca.crt="+string(backend.CA))
	applyRoute(t, ns, "api", "app.example.com", fmt.Sprintf("  tls:\n    termination: reencrypt\n    certificate: %q\n    key: %q\n", own.Cert, own.Key))
	kubectl(t, "", "-n", ns, "annotate", "route", "api", "certinel.io/destination-ca-from-secret=backend-ca")
	waitRoute(t, ns, "api", func(c *routev1.TLSConfig) string {
		if c == nil || leafOf(c.DestinationCACertificate) != leafOf(string(backend.CA)) {
			return fmt.Sprintf("destinationCACertificate not set: %+v", c)
		}
		if c.Certificate != string(own.Cert) || c.Key != string(own.Key) || c.Termination != routev1.TLSTerminationReencrypt {
			return "the Route's own certificate, key or termination changed"
		}
		return ""
	})
	kubectl(t, "", "-n", ns, "annotate", "route", "api", "certinel.io/destination-ca-from-secret-")
	waitRoute(t, ns, "api", func(c *routev1.TLSConfig) string {
		if c == nil || c.DestinationCACertificate != "" || c.Certificate != string(own.Cert) || c.Key != string(own.Key) || c.Termination != routev1.TLSTerminationReencrypt {
			return fmt.Sprintf("spec.tls %+v, want the user's own fields alone", c)
		}
		return ""
	})
}

// Bad input on a Route gets a Warning and nothing written; a certificate
// that does not cover the host is applied with a Warning.
func TestRouteBadInput(t *testing.T) {
	ns := namespace(t)
	tls := newTLS(t, framework.SEC1)
	applyTLSSecret(t, ns, "web-tls", tls, nil)
	cases := map[string]struct {
		tls, annotation, reason string
	}{
		"passthrough":               {"  tls: {termination: passthrough}\n", "certinel.io/certs-from-secret=web-tls", "PassthroughRoute"},
		"another namespace":         {"", "certinel.io/certs-from-secret=other/web-tls", "InvalidAnnotation"},
		"missing Secret":            {"", "certinel.io/certs-from-secret=nope", "MissingSecret"},
		"destination CA on an edge": {"  tls: {termination: edge}\n", "certinel.io/destination-ca-from-secret=web-tls", "InvalidAnnotation"},
	}
	i := 0
	for name, tc := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			route := fmt.Sprintf("bad-%d", i)
			applyRoute(t, ns, route, "app.example.com", tc.tls)
			before := getRoute(t, ns, route).ResourceVersion
			kubectl(t, "", "-n", ns, "annotate", "route", route, tc.annotation)
			waitForEvent(t, ns, route, tc.reason)
			after := getRoute(t, ns, route)
			if _, ok := after.Annotations["certinel.io/managed-fields"]; ok || (after.Spec.TLS != nil && after.Spec.TLS.Certificate != "") {
				t.Errorf("the Route was written despite %s (resourceVersion %s → %s)", tc.reason, before, after.ResourceVersion)
			}
		})
	}
	t.Run("certificate for another host", func(t *testing.T) {
		applyRoute(t, ns, "elsewhere", "shop.example.org", "")
		kubectl(t, "", "-n", ns, "annotate", "route", "elsewhere", "certinel.io/certs-from-secret=web-tls")
		mustContain(t, "Event", waitForEvent(t, ns, "elsewhere", "CertificateHostMismatch"), "shop.example.org")
		waitRoute(t, ns, "elsewhere", func(c *routev1.TLSConfig) string {
			if c == nil || c.Certificate == "" {
				return "not applied"
			}
			return ""
		})
	})
}

// With the Route CRD installed after certinel started, the Route controller
// starts without a restart.
func TestRouteCRDInstalledLater(t *testing.T) {
	ctx := context.Background()
	crd := filepath.Join(cluster.Root, "config", "crd", "external", "route.openshift.io_routes.yaml")
	certinel.Stop()
	kubectl(t, "", "delete", "-f", crd, "--wait")
	t.Cleanup(func() { _, _ = cluster.Kubectl(ctx, "", "apply", "-f", crd) })
	if err := certinel.Start(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // certinel runs without Routes for a moment
	kubectl(t, "", "apply", "-f", crd)
	kubectl(t, "", "wait", "--for=condition=Established", "crd/routes.route.openshift.io", "--timeout=60s")
	ns := namespace(t)
	applyTLSSecret(t, ns, "web-tls", newTLS(t, framework.SEC1), nil)
	testutil.Eventually(t, 30*time.Second, func() string {
		if _, err := cluster.Kubectl(ctx, fmt.Sprintf("apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: web, namespace: %s, annotations: {certinel.io/certs-from-secret: web-tls}}\nspec:\n  host: app.example.com\n  to: {kind: Service, name: web}\n", ns), "apply", "-f", "-"); err != nil {
			return err.Error()
		}
		return ""
	})
	waitRoute(t, ns, "web", func(c *routev1.TLSConfig) string {
		if c == nil || c.Certificate == "" {
			return "the Route was not filled"
		}
		return ""
	})
}

// The termination certinel set on a Route without TLS goes with the rest of
// certinel's fields.
func TestRouteTerminationGoesWithCertinel(t *testing.T) {
	ns := namespace(t)
	applyTLSSecret(t, ns, "web-tls", newTLS(t, framework.SEC1), nil)
	applyRoute(t, ns, "web", "app.example.com", "")
	kubectl(t, "", "-n", ns, "annotate", "route", "web", "certinel.io/certs-from-secret=web-tls")
	waitRoute(t, ns, "web", func(c *routev1.TLSConfig) string {
		if c == nil || c.Certificate == "" || c.Termination != routev1.TLSTerminationEdge {
			return fmt.Sprintf("spec.tls %+v", c)
		}
		return ""
	})
	kubectl(t, "", "-n", ns, "annotate", "route", "web", "certinel.io/certs-from-secret-")
	waitRoute(t, ns, "web", func(c *routev1.TLSConfig) string {
		if c != nil && (c.Certificate != "" || c.Key != "" || c.CACertificate != "" || c.Termination != "") {
			return fmt.Sprintf("spec.tls still %+v", c)
		}
		return ""
	})
}
