package e2e

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// config/samples works as its comments say for a user who applies it with
// kubectl: the API server takes every sample, certinel gives a Warning on
// the placeholder TLS data instead of writing anything, and once the
// Secret holds a real certificate and key, the keystores are written with
// the sample's password Secret, the Ingress takes the Secret and the
// Deployment that reads it rolls once.
func TestSamples(t *testing.T) {
	ns := namespace(t)
	samples := filepath.Join(cluster.Root, "config", "samples")
	t.Cleanup(func() { // the one cluster-scoped sample
		_, _ = cluster.Kubectl(context.Background(), "", "delete", "validatingwebhookconfiguration", "my-webhook", "--ignore-not-found")
	})
	kubectl(t, "", "apply", "-k", samples, "-n", ns)
	// Left out of the kustomization because they need more than a plain
	// cluster (OpenShift's Route API, --compat=cert-utils); the API server
	// here serves Routes, so both are applied too.
	for _, f := range []string{"route.yaml", "compat-cert-utils.yaml"} {
		kubectl(t, "", "apply", "-f", filepath.Join(samples, f), "-n", ns)
	}

	// Placeholder data: a Warning that says what to fix, nothing written.
	waitForEvent(t, ns, "my-tls", "NoCertificate")
	if s := getSecret(t, ns, "my-tls"); len(s.Data) != 2 {
		t.Errorf("certinel wrote into the placeholder Secret: %v", yet(s))
	}

	// The user puts a real certificate and key in, keeping the sample's
	// annotations.
	tls, err := framework.NewTLS("my-app.example.com", framework.PKCS8, "my-app.example.com")
	if err != nil {
		t.Fatal(err)
	}
	applyTLSSecret(t, ns, "my-tls", tls, getSecret(t, ns, "my-tls").Annotations)
	s := waitForKeys(t, ns, "my-tls", "keystore.jks", "keystore.p12", "truststore.jks", "truststore.p12")
	pw := string(getSecret(t, ns, "keystore-password").Data["password"])
	mustContain(t, "keytool -list",
		runCmd(t, "keytool", "-list", "-keystore", testutil.WriteFile(t, "keystore.jks", s.Data["keystore.jks"]), "-storepass", pw),
		"PrivateKeyEntry")
	mustContain(t, "openssl pkcs12",
		runCmd(t, "openssl", "pkcs12", "-in", testutil.WriteFile(t, "keystore.p12", s.Data["keystore.p12"]), "-passin", "pass:"+pw, "-nokeys", "-info"),
		"BEGIN CERTIFICATE")

	waitIngressTLS(t, ns, "my-app", map[string][]string{"my-tls": {"my-app.example.com"}})
	waitForEvent(t, ns, "my-app", "RolloutTriggered")
}
