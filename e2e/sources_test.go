package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// Truststore sources from a ConfigMap and a Secret in another namespace
// that consents are merged; changing a source updates the truststore.
func TestTruststoreSources(t *testing.T) {
	ns, shared := namespace(t), namespace(t)
	tls, partner, other := newTLS(t, framework.PKCS1), newTLS(t, framework.SEC1), newTLS(t, framework.SEC1)
	kubectl(t, "", "-n", ns, "create", "configmap", "partner-ca", "--from-literal=bundle.pem="+string(partner.CA))
	// an Opaque Secret in another namespace that shares its certificates
	// with ns: its data is not cached, so certinel reads it from the API server
	kubectl(t, "", "-n", shared, "create", "secret", "generic", "corp-ca", "--from-literal=ca.crt="+string(other.CA))
	kubectl(t, "", "-n", shared, "annotate", "secret", "corp-ca", "certinel.io/share-certificates-with="+ns)
	applyTLSSecret(t, ns, "app-tls", tls, map[string]string{
		annKeystores:                     "jks",
		"certinel.io/truststore-sources": "configmap:partner-ca/bundle.pem, secret:" + shared + "/corp-ca",
	})
	s := waitForKeys(t, ns, "app-tls", "truststore.jks")
	out := runCmd(t, "keytool", "-list", "-keystore", testutil.WriteFile(t, "ts.jks", s.Data["truststore.jks"]), "-storepass", "changeit")
	mustContain(t, "truststore", out, "Your keystore contains 3 entries")

	// the partner rotates its CA: the truststore follows
	rotated := newTLS(t, framework.SEC1)
	patch, err := json.Marshal(map[string]any{"data": map[string]string{"bundle.pem": string(rotated.CA) + string(partner.CA)}})
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, string(patch), "-n", ns, "patch", "configmap", "partner-ca", "--patch-file=/dev/stdin")
	testutil.Eventually(t, 30*time.Second, func() string {
		s := getSecret(t, ns, "app-tls")
		out := runCmd(t, "keytool", "-list", "-keystore", testutil.WriteFile(t, "ts.jks", s.Data["truststore.jks"]), "-storepass", "changeit")
		if !strings.Contains(out, "Your keystore contains 4 entries") {
			return "truststore not updated: " + out
		}
		return ""
	})
}

// keystores-target writes into a Secret that certinel creates and owns;
// switching back to in-place moves the outputs and deletes the target.
func TestKeystoresTarget(t *testing.T) {
	ns := namespace(t)
	applyTLSSecret(t, ns, "issued", newTLS(t, framework.PKCS1), map[string]string{
		annKeystores: "pkcs12", "certinel.io/keystores-target": "issued-keystores", "certinel.io/cert-info": "true",
	})
	target := waitForKeys(t, ns, "issued-keystores", "keystore.p12", "truststore.p12", "tls.crt.info", "ca.crt.info")
	if ref := target.OwnerReferences; len(ref) != 1 || ref[0].Kind != "Secret" || ref[0].Name != "issued" {
		t.Fatalf("target owner references = %+v, want the source Secret", ref)
	}
	mustContain(t, "tls.crt.info", string(target.Data["tls.crt.info"]), "CN=app.example.com", "DNS:localhost", "Not After")
	if src := getSecret(t, ns, "issued"); len(src.Data) != 3 {
		t.Errorf("source Secret has %d keys, want its own 3%s", len(src.Data), yet(src))
	}
	waitForEvent(t, ns, "issued-keystores", "KeystoresUpdated")

	t.Run("deleting the target recreates it", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "delete", "secret", "issued-keystores")
		waitForKeys(t, ns, "issued-keystores", "keystore.p12")
	})

	t.Run("an existing Secret is never taken over", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "create", "secret", "generic", "taken", "--from-literal=a=b")
		kubectl(t, "", "-n", ns, "annotate", "--overwrite", "secret", "issued", "certinel.io/keystores-target=taken")
		waitForEvent(t, ns, "issued", "TargetConflict")
		if s := getSecret(t, ns, "taken"); len(s.Data) != 1 {
			t.Errorf("Secret taken was changed%s", yet(s))
		}
		// make before break: the current target stays until a new one is written
		if s := getSecret(t, ns, "issued-keystores"); len(s.Data["keystore.p12"]) == 0 {
			t.Errorf("the working target lost its keystore%s", yet(s))
		}
	})

	t.Run("writing in place removes the target", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "annotate", "secret", "issued", "certinel.io/keystores-target-")
		waitForKeys(t, ns, "issued", "keystore.p12", "tls.crt.info")
		testutil.Eventually(t, 30*time.Second, func() string {
			var s corev1.Secret
			err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "issued-keystores"}, &s)
			if err == nil {
				return "target Secret still exists"
			}
			return ""
		})
	})

	t.Run("deleting the source garbage-collects its target", func(t *testing.T) {
		applyTLSSecret(t, ns, "short-lived", newTLS(t, framework.SEC1), map[string]string{annKeystores: "jks", "certinel.io/keystores-target": "short-lived-ks"})
		waitForKeys(t, ns, "short-lived-ks", "keystore.jks")
		kubectl(t, "", "-n", ns, "delete", "secret", "short-lived")
		testutil.Eventually(t, 60*time.Second, func() string {
			var s corev1.Secret
			if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "short-lived-ks"}, &s); err == nil {
				return "target Secret not garbage-collected"
			}
			return ""
		})
	})
}
