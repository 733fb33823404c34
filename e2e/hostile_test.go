package e2e

// What a tenant with rights in one namespace may try against certinel, as
// kubectl commands against the real API server.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testpki"
	"github.com/certinel/certinel/pkg/testutil"
)

// manyCAs is n self-signed CA certificates with two subjects, alternating,
// listed in reverse order, as PEM: the worst order for chain building.
func manyCAs(t *testing.T, prefix string, n int) []byte {
	t.Helper()
	certs := testpki.ManyCAs(t, n, func(i int) string { return fmt.Sprintf("%s %d", prefix, i%2) })
	slices.Reverse(certs)
	return testpki.CertsPEM(certs...)
}

// createTLSSecret creates a large Secret: `kubectl apply` would copy it into
// an annotation, which cannot hold it.
func createTLSSecret(t *testing.T, ns, name string, tls *framework.TLS, annotations map[string]string) {
	t.Helper()
	kubectl(t, tls.SecretYAML(ns, name, annotations), "create", "-f", "-")
}

// A user who cannot read namespace other learns nothing of it from the
// Events on their own Secrets: a source that does not exist, one without
// the key, and one whose key holds no certificate all give one message.
func TestCrossNamespaceReadsRevealNothing(t *testing.T) {
	ns, other := namespace(t), namespace(t)
	kubectl(t, "", "-n", other, "create", "secret", "generic", "db-creds", "--from-literal=password=hunter2")
	tls := newTLS(t, framework.SEC1)
	refs := []string{other + "/nonexistent/ca.crt", other + "/db-creds/nokey", other + "/db-creds/password"}
	var messages []string
	for i, ref := range refs {
		name := fmt.Sprintf("probe-%d", i)
		applyTLSSecret(t, ns, name, tls, map[string]string{annKeystores: "jks", "certinel.io/truststore-sources": "secret:" + ref})
		messages = append(messages, waitForEvent(t, ns, name, "SourceNotShared"))
	}
	for i, m := range messages {
		if m != messages[0] {
			t.Errorf("the Event for %s differs from the one for %s:\n%s\n%s", refs[i], refs[0], m, messages[0])
		}
		if strings.Contains(m, "db-creds") || strings.Contains(m, "nonexistent") {
			t.Errorf("the Event names the source: %s", m)
		}
	}
	mustContain(t, "Event", messages[0], "certinel.io/share-certificates-with", "namespace "+ns)
}

// Consent on a source in another namespace lets a truststore read it within
// a second; withdrawing it stops the reads within a second, and the
// truststore keeps what it had.
func TestCrossNamespaceConsent(t *testing.T) {
	ns, other := namespace(t), namespace(t)
	tls, corp, next := newTLS(t, framework.SEC1), newTLS(t, framework.SEC1), newTLS(t, framework.SEC1)
	kubectl(t, "", "-n", other, "create", "secret", "generic", "corp-ca", "--from-literal=ca.crt="+string(corp.CA))
	applyTLSSecret(t, ns, "app-tls", tls, map[string]string{annKeystores: "jks", "certinel.io/truststore-sources": "secret:" + other + "/corp-ca"})
	waitForEvent(t, ns, "app-tls", "SourceNotShared")

	entries := func() string {
		s := getSecret(t, ns, "app-tls")
		if len(s.Data["truststore.jks"]) == 0 {
			return "no truststore"
		}
		return runCmd(t, "keytool", "-list", "-keystore", testutil.WriteFile(t, "ts.jks", s.Data["truststore.jks"]), "-storepass", "changeit")
	}
	start := time.Now()
	kubectl(t, "", "-n", other, "annotate", "secret", "corp-ca", "certinel.io/share-certificates-with="+ns)
	testutil.Eventually(t, 30*time.Second, func() string {
		if out := entries(); !strings.Contains(out, "Your keystore contains 2 entries") {
			return "truststore without the shared CA: " + out
		}
		return ""
	})
	t.Logf("consent granted: truststore written %v after kubectl annotate", time.Since(start).Round(time.Millisecond))

	refused := metric(t, "certinel_invalid_input_total", `reason="SourceNotShared"`)
	before := entries()
	start = time.Now()
	kubectl(t, "", "-n", other, "annotate", "secret", "corp-ca", "certinel.io/share-certificates-with-")
	kubectl(t, "", "-n", other, "patch", "secret", "corp-ca", "-p", fmt.Sprintf(`{"stringData":{"ca.crt":%q}}`, next.CA))
	testutil.Eventually(t, 30*time.Second, func() string {
		if metric(t, "certinel_invalid_input_total", `reason="SourceNotShared"`) <= refused {
			return "no SourceNotShared since consent was withdrawn"
		}
		return ""
	})
	t.Logf("consent withdrawn: refused %v after kubectl annotate", time.Since(start).Round(time.Millisecond))
	if after := entries(); after != before {
		t.Errorf("the truststore changed after consent was withdrawn:\n%s", after)
	}
}

// A tls.crt with a leaf and 1200 CA certificates is refused at once, and
// while four of them exist a normal Secret in another namespace gets its
// keystore as usual.
func TestHostileChainsDoNotStarveOthers(t *testing.T) {
	hostile, normal := namespace(t), namespace(t)
	leaf := newTLS(t, framework.SEC1)
	long := &framework.TLS{Cert: append(append([]byte{}, leaf.Cert...), manyCAs(t, "hostile", 1200)...), Key: leaf.Key, CA: leaf.CA}
	for i := range 4 {
		createTLSSecret(t, hostile, fmt.Sprintf("long-%d", i), long, map[string]string{annKeystores: "jks,pkcs12"})
	}
	start := time.Now()
	applyTLSSecret(t, normal, "app-tls", newTLS(t, framework.PKCS1), map[string]string{annKeystores: "jks"})
	waitForKeys(t, normal, "app-tls", "keystore.jks")
	t.Logf("a normal Secret got its keystore %v after kubectl apply, with four hostile ones in the cluster", time.Since(start).Round(time.Millisecond))
	for i := range 4 {
		mustContain(t, "Event", waitForEvent(t, hostile, fmt.Sprintf("long-%d", i), "ChainTooLong"), "10")
	}
}

// Outputs that would not fit a Secret get OutputTooLarge with the way out,
// no write and no endless retry; taking the way out writes the stores.
func TestOutputTooLarge(t *testing.T) {
	ns := namespace(t)
	tls := newTLS(t, framework.SEC1)
	big := &framework.TLS{Cert: tls.Cert, Key: tls.Key, CA: manyCAs(t, "bundle", 700)}
	createTLSSecret(t, ns, "big", big, map[string]string{annKeystores: "jks,pkcs12", "certinel.io/cert-info": "true"})
	msg := waitForEvent(t, ns, "big", "OutputTooLarge")
	mustContain(t, "Event", msg, "truststore.jks", "truststore.p12", "1024 KiB", "certinel.io/keystores-target")
	failures := metric(t, "certinel_write_failures_total")
	if s := getSecret(t, ns, "big"); len(s.Data) != 3 {
		t.Fatalf("the Secret was written%s", yet(s))
	}

	kubectl(t, "", "-n", ns, "annotate", "--overwrite", "secret", "big", annKeystores+"=jks", "certinel.io/cert-info-")
	s := waitForKeys(t, ns, "big", "keystore.jks", "truststore.jks")
	out := runCmd(t, "keytool", "-list", "-keystore", testutil.WriteFile(t, "ts.jks", s.Data["truststore.jks"]), "-storepass", "changeit")
	mustContain(t, "truststore", out, "Your keystore contains 700 entries")
	if got := metric(t, "certinel_write_failures_total"); got != failures {
		t.Errorf("write failures went from %v to %v: certinel tried a write the API server refused", failures, got)
	}
}
