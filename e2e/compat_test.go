package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// startCompatCertinel replaces the suite's certinel, for the rest of the
// test, by one started with --compat=cert-utils,reloader.
func startCompatCertinel(t *testing.T) { startCompatCertinelAfter(t, nil) }

// startCompatCertinelAfter is startCompatCertinel, running before while no
// certinel runs.
func startCompatCertinelAfter(t *testing.T, before func()) {
	t.Helper()
	ctx := context.Background()
	certinel.Stop() // one writer at a time
	t.Cleanup(func() {
		if err := certinel.Start(ctx); err != nil {
			t.Error(err)
		}
	})
	if before != nil {
		before()
	}
	logPath := filepath.Join(cluster.Dir, "certinel-compat.log")
	c, err := framework.StartCertinel(ctx, certinelBin, certinel.Kubeconfig, logPath, "--compat=cert-utils,reloader", "--zap-log-level=debug")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // before the suite's certinel starts again
		c.Stop()
		if b, err := os.ReadFile(logPath); err == nil && t.Failed() {
			t.Logf("---- compat certinel log (last 8 KiB) ----\n%s", tail(b, 8<<10))
		}
	})
}

// mountsSecret is a pod spec that mounts Secret name.
func mountsSecret(name string) string {
	return fmt.Sprintf(`      containers: [{name: app, image: registry.example/app:1, volumeMounts: [{name: tls, mountPath: /tls}]}]
      volumes: [{name: tls, secret: {secretName: %s}}]
`, name)
}

// keytoolList lists a JKS store with password changeme, cert-utils' default.
func keytoolList(t *testing.T, name string, data []byte) string {
	t.Helper()
	return runCmd(t, "keytool", "-list", "-v", "-keystore", testutil.WriteFile(t, name, data), "-storepass", "changeme")
}

// TestMigrateFromCertUtilsAndReloader replays, unchanged but for oc →
// kubectl, the annotate commands of a cert-utils-operator + Reloader setup
// (three services with keystores on their Secrets, a reencrypt Route filled
// from Secrets, Deployments reloaded by Reloader) against certinel with
// --compat=cert-utils,reloader, and checks what their users read: keystores
// under alias "alias" with password changeme, the Route filled, no rollout
// from annotating, exactly one rollout per renewal.
func TestMigrateFromCertUtilsAndReloader(t *testing.T) {
	startCompatCertinel(t)
	ns := namespace(t)
	services := []string{"frontend", "orders", "payments"}
	certs := map[string]*framework.TLS{}
	for _, svc := range services {
		certs[svc] = newTLS(t, framework.PKCS8)
		applyTLSSecret(t, ns, svc+"-tls", certs[svc], nil)
		kubectl(t, deploymentYAML(ns, svc, nil, mountsSecret(svc+"-tls")), "apply", "-f", "-")
	}
	applyRoute(t, ns, "frontend", "app.example.com", "  tls:\n    termination: reencrypt\n")
	for _, svc := range services {
		waitReplicaSets(t, ns, svc, 1)
	}

	// The commands of the cert-utils and Reloader setup.
	for _, svc := range services {
		kubectl(t, "", "-n", ns, "annotate", "secret", svc+"-tls", "cert-utils-operator.redhat-cop.io/generate-java-keystores=true")
	}
	kubectl(t, "", "-n", ns, "annotate", "route", "frontend", "cert-utils-operator.redhat-cop.io/certs-from-secret=frontend-tls")
	kubectl(t, "", "-n", ns, "annotate", "route", "frontend", "cert-utils-operator.redhat-cop.io/destinationCA-from-secret=frontend-tls")
	for _, svc := range services {
		kubectl(t, "", "-n", ns, "annotate", "deployment", svc, "secret.reloader.stakater.com/reload="+svc+"-tls")
	}

	t.Run("keystores readable with changeme under alias alias", func(t *testing.T) {
		for _, svc := range services {
			s := waitForKeys(t, ns, svc+"-tls", "keystore.jks", "truststore.jks")
			mustContain(t, svc+" keystore.jks", keytoolList(t, "keystore.jks", s.Data["keystore.jks"]),
				"Your keystore contains 1 entry", "Alias name: alias\n", "PrivateKeyEntry", "Certificate chain length: 2", "CN=app.example.com")
			mustContain(t, svc+" truststore.jks", keytoolList(t, "truststore.jks", s.Data["truststore.jks"]),
				"Your keystore contains 1 entry", "Alias name: alias0\n", "trustedCertEntry")
		}
	})

	t.Run("the Route is filled", func(t *testing.T) {
		tls := certs["frontend"]
		waitRoute(t, ns, "frontend", func(c *routev1.TLSConfig) string {
			if c == nil || c.Termination != routev1.TLSTerminationReencrypt || leafOf(c.Certificate) != leafOf(string(tls.Cert)) ||
				strings.TrimSpace(c.Key) != strings.TrimSpace(string(tls.Key)) ||
				strings.TrimSpace(c.DestinationCACertificate) != strings.TrimSpace(string(tls.CA)) {
				return fmt.Sprintf("spec.tls %+v", c)
			}
			return ""
		})
	})

	t.Run("annotating rolls nothing", func(t *testing.T) {
		for _, svc := range services {
			waitBaseline(t, ns, svc)
			waitReplicaSets(t, ns, svc, 1)
			if h, ok := getDeployment(t, ns, svc).Spec.Template.Annotations["certinel.io/config-hash"]; ok {
				t.Errorf("%s: pod template changed (config-hash %q)", svc, h)
			}
			d := getDeployment(t, ns, svc)
			for k := range d.Annotations {
				if strings.HasPrefix(k, "internal.certinel.io/") || k == "certinel.io/reload-secrets" {
					t.Errorf("%s: the cache's translation %s was written to the API server", svc, k)
				}
			}
		}
		s := getSecret(t, ns, "orders-tls")
		for _, k := range []string{"certinel.io/keystores", "certinel.io/keystore-alias", "internal.certinel.io/compat-defaults"} {
			if _, ok := s.Annotations[k]; ok {
				t.Errorf("the cache's translation %s was written to the Secret", k)
			}
		}
	})

	t.Run("one rollout per renewal, of the Deployment that reads it", func(t *testing.T) {
		renewed := newTLS(t, framework.SEC1)
		applyTLSSecret(t, ns, "orders-tls", renewed, nil)
		waitReplicaSets(t, ns, "orders", 2)
		for _, svc := range []string{"frontend", "payments"} {
			waitReplicaSets(t, ns, svc, 1)
		}
		// the rollout came once the keystore held the new certificate
		s := getSecret(t, ns, "orders-tls")
		leaf := strings.TrimPrefix(leafOf(string(renewed.Cert)), "app.example.com#")
		out := keytoolList(t, "keystore.jks", s.Data["keystore.jks"])
		mustContain(t, "renewed keystore.jks", out, "Alias name: alias\n", "Serial number: "+strings.TrimLeft(leaf, "0"))
		mustContain(t, "Event", waitForEvent(t, ns, "orders", "RolloutTriggered"), "secret:orders-tls")
	})
}

// Compat keys get certinel's guarantees: a certinel key set beside a compat
// key wins with a Warning; a malformed compat value is a Warning, not a
// crash; a cross-namespace injectca-from-secret needs the source's consent;
// a cert-utils ConfigMap truststore is written under cert-utils' names.
func TestCompatGuarantees(t *testing.T) {
	startCompatCertinel(t)
	ns, other := namespace(t), namespace(t)
	tls := newTLS(t, framework.SEC1)

	applyTLSSecret(t, ns, "both-tls", tls, map[string]string{
		"cert-utils-operator.redhat-cop.io/generate-java-keystores": "true", "certinel.io/keystores": "pkcs12"})
	s := waitForKeys(t, ns, "both-tls", "keystore.p12")
	if _, ok := s.Data["keystore.jks"]; ok {
		t.Error("the overridden cert-utils key wrote keystore.jks")
	}
	mustContain(t, "Warning", waitForEvent(t, ns, "both-tls", "CompatKeyIgnored"),
		"cert-utils-operator.redhat-cop.io/generate-java-keystores is ignored", "certinel.io/keystores")

	// A Secret that cert-utils-operator already filled: certinel takes its
	// keys over instead of refusing them as somebody else's.
	applyTLSSecret(t, ns, "filled-tls", tls, nil)
	kubectl(t, "", "-n", ns, "patch", "secret", "filled-tls", "-p", `{"stringData":{"keystore.jks":"written by cert-utils","truststore.jks":"written by cert-utils"}}`)
	kubectl(t, "", "-n", ns, "annotate", "secret", "filled-tls", "cert-utils-operator.redhat-cop.io/generate-java-keystores=true")
	testutil.Eventually(t, 30*time.Second, func() string {
		s := getSecret(t, ns, "filled-tls")
		if s.Annotations["certinel.io/managed-keys"] != "keystore.jks,truststore.jks" {
			return "managed-keys " + s.Annotations["certinel.io/managed-keys"]
		}
		return ""
	})
	mustContain(t, "taken-over keystore.jks", keytoolList(t, "keystore.jks", getSecret(t, ns, "filled-tls").Data["keystore.jks"]), "Alias name: alias\n")

	kubectl(t, deploymentYAML(ns, "bad", map[string]string{"secret.reloader.stakater.com/reload": "app-.*"}, mountsSecret("both-tls")), "apply", "-f", "-")
	mustContain(t, "Warning", waitForEvent(t, ns, "bad", "InvalidAnnotation"), "secret.reloader.stakater.com/reload", "regular expressions")

	applyTLSSecret(t, other, "corp-ca", tls, nil)
	// ca.crt as cert-utils-operator left it (another field manager): taken over
	kubectl(t, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ca\n  namespace: %s\n  annotations:\n    cert-utils-operator.redhat-cop.io/injectca-from-secret: %s/corp-ca\ndata:\n  ca.crt: written by cert-utils\n", ns, other), "create", "-f", "-")
	mustContain(t, "Warning", waitForEvent(t, ns, "ca", "SourceNotShared"), "certinel.io/share-certificates-with")
	kubectl(t, "", "-n", other, "annotate", "secret", "corp-ca", "certinel.io/share-certificates-with="+ns)
	testutil.Eventually(t, 30*time.Second, func() string {
		var cm corev1.ConfigMap
		if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "ca"}, &cm); err != nil {
			return err.Error()
		}
		if strings.TrimSpace(cm.Data["ca.crt"]) != strings.TrimSpace(string(tls.CA)) {
			return "ca.crt not injected yet"
		}
		return ""
	})

	// a cluster-scoped target reads any namespace, as with certinel's key
	hooks := "v-compat-" + ns
	kubectl(t, webhooksYAML("ValidatingWebhookConfiguration", hooks, ns), "apply", "-f", "-")
	t.Cleanup(func() {
		_, _ = cluster.Kubectl(context.Background(), "", "delete", "validatingwebhookconfiguration", hooks)
	})
	kubectl(t, "", "annotate", "validatingwebhookconfiguration", hooks, "cert-utils-operator.redhat-cop.io/injectca-from-secret="+other+"/corp-ca")
	waitBundles(t, validatingGVK, "", hooks, func(u *unstructured.Unstructured) []string {
		return caBundles(u, "webhooks", "clientConfig", "caBundle")
	}, commonNames(tls.CA))

	// truststore.jks as cert-utils-operator left it (another field manager): taken over
	kubectl(t, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bundle\n  namespace: %s\n  annotations:\n    cert-utils-operator.redhat-cop.io/generate-java-truststore: \"true\"\ndata:\n  ca-bundle.crt: |\n%sbinaryData:\n  truststore.jks: AAAA\n", ns,
		indent(string(tls.CA)+string(newTLS(t, framework.SEC1).CA), "    ")), "create", "-f", "-")
	var store []byte
	testutil.Eventually(t, 30*time.Second, func() string {
		var cm corev1.ConfigMap
		if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "bundle"}, &cm); err != nil {
			return err.Error()
		}
		if store = cm.BinaryData["truststore.jks"]; len(store) < 4 {
			return "no truststore.jks of certinel in binaryData yet"
		}
		return ""
	})
	mustContain(t, "ConfigMap truststore.jks", keytoolList(t, "truststore.jks", store),
		"Your keystore contains 2 entries", "Alias name: alias0\n", "Alias name: alias1\n")
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

// The day of the switch: Secrets that cert-utils-operator filled and
// Deployments that Reloader watched, all annotated before certinel starts.
// certinel takes the stores over and rolls nothing.
func TestTakeoverAtStartupRollsNothing(t *testing.T) {
	ns := namespace(t)
	startCompatCertinelAfter(t, func() {
		applyTLSSecret(t, ns, "legacy-tls", newTLS(t, framework.PKCS8), map[string]string{
			"cert-utils-operator.redhat-cop.io/generate-java-keystores": "true"})
		// what cert-utils-operator wrote, under its own field manager
		kubectl(t, "", "-n", ns, "patch", "secret", "legacy-tls", "-p", `{"stringData":{"keystore.jks":"written by cert-utils","truststore.jks":"written by cert-utils"}}`)
		kubectl(t, deploymentYAML(ns, "legacy", map[string]string{"secret.reloader.stakater.com/reload": "legacy-tls"}, mountsSecret("legacy-tls")), "apply", "-f", "-")
		waitReplicaSets(t, ns, "legacy", 1)
	})
	testutil.Eventually(t, 30*time.Second, func() string {
		if got := getSecret(t, ns, "legacy-tls").Annotations["certinel.io/managed-keys"]; got != "keystore.jks,truststore.jks" {
			return "managed-keys " + got
		}
		return ""
	})
	mustContain(t, "taken-over keystore.jks", keytoolList(t, "keystore.jks", getSecret(t, ns, "legacy-tls").Data["keystore.jks"]), "Alias name: alias\n")
	waitBaseline(t, ns, "legacy")
	waitReplicaSets(t, ns, "legacy", 1)
}

// Reloader's auto and ConfigMap keys, on the workload or on its pod
// template, roll once per change of what the pods read, and never on sight.
func TestCompatReloaderAutoAndConfigMaps(t *testing.T) {
	startCompatCertinel(t)
	ns := namespace(t)
	kubectl(t, "", "-n", ns, "create", "configmap", "settings", "--from-literal=level=info")
	kubectl(t, "", "-n", ns, "create", "configmap", "flags", "--from-literal=beta=off")
	readsSettings := `      containers: [{name: app, image: registry.example/app:1, envFrom: [{configMapRef: {name: settings}}]}]
`
	kubectl(t, deploymentYAML(ns, "auto", map[string]string{"reloader.stakater.com/auto": "true"}, readsSettings), "apply", "-f", "-")
	// the key on the pod template, as Reloader also reads it
	kubectl(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: listed, namespace: %s}
spec:
  replicas: 1
  selector: {matchLabels: {app: listed}}
  template:
    metadata:
      labels: {app: listed}
      annotations: {configmap.reloader.stakater.com/reload: flags}
    spec:
      containers: [{name: app, image: registry.example/app:1}]
`, ns), "apply", "-f", "-")
	for _, d := range []string{"auto", "listed"} {
		waitBaseline(t, ns, d)
		waitReplicaSets(t, ns, d, 1)
	}
	kubectl(t, "", "-n", ns, "patch", "configmap", "settings", "-p", `{"data":{"level":"debug"}}`)
	waitReplicaSets(t, ns, "auto", 2)
	waitReplicaSets(t, ns, "listed", 1)
	kubectl(t, "", "-n", ns, "patch", "configmap", "flags", "-p", `{"data":{"beta":"on"}}`)
	waitReplicaSets(t, ns, "listed", 2)
	waitReplicaSets(t, ns, "auto", 2)
}
