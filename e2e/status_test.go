package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/status"
	"github.com/certinel/certinel/pkg/testutil"
)

// statusRow finds the row of object (e.g. "secret/web-tls") in the table
// `certinel status` printed and returns its line.
func statusRow(t *testing.T, table, object string) string {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == object || len(f) > 1 && f[1] == object) {
			return line
		}
	}
	t.Fatalf("no row for %s in:\n%s", object, table)
	return ""
}

// wantRow fails unless the row of object holds every want, in order.
func wantRow(t *testing.T, table, object string, want ...string) {
	t.Helper()
	line := statusRow(t, table, object)
	rest := line
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("row of %s: no %q after the columns before it:\n%s\nwhole table:\n%s", object, w, line, table)
		}
		rest = rest[i+len(w):]
	}
}

// waitConfigMapKey waits until the ConfigMap has the data key.
func waitConfigMapKey(t *testing.T, ns, name, key string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() string {
		var cm corev1.ConfigMap
		if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
			return err.Error()
		}
		if _, ok := cm.Data[key]; !ok {
			return "ConfigMap " + name + " has no " + key
		}
		return ""
	})
}

// expiryOf is the EXPIRY column for the leaf of PEM data.
func expiryOf(t *testing.T, data []byte) string {
	t.Helper()
	certs, err := pki.ParseCertificates(data)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := certs[0].NotAfter.UTC()
	return status.FormatExpiry(&notAfter, time.Now())
}

// `kubectl certinel status -n NS`, with certinel linked on PATH as the
// kubectl plugin, shows what certinel manages in the namespace: keystores
// written, bad input with its Warning reason, keystores pending while
// certinel is down, an injected ConfigMap and Routes, with their expiry and
// last write.
func TestStatus(t *testing.T) {
	ns := namespace(t)
	tls := newTLS(t, framework.SEC1)
	other := newTLS(t, framework.SEC1)

	// Up to date: keystores written.
	applyTLSSecret(t, ns, "good", tls, map[string]string{"certinel.io/keystores": "jks"})
	waitForKeys(t, ns, "good", "keystore.jks", "truststore.jks")
	// Bad input: a key that does not match the certificate.
	mismatched := *tls
	mismatched.Key = other.Key
	applyTLSSecret(t, ns, "mismatch", &mismatched, map[string]string{"certinel.io/keystores": "pkcs12"})
	waitForEvent(t, ns, "mismatch", "KeyCertificateMismatch")
	// Bad input seen in the annotations themselves.
	applyTLSSecret(t, ns, "format", tls, map[string]string{"certinel.io/keystores": "pem"})
	waitForEvent(t, ns, "format", "UnknownKeystoreFormat")
	// CA injection into a ConfigMap of the same namespace.
	kubectl(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: trust\n  namespace: "+ns+"\n  annotations:\n    certinel.io/inject-ca-from: good\n", "apply", "-f", "-")
	waitConfigMapKey(t, ns, "trust", "ca.crt")
	// Routes: one whose host the certificate covers, one it does not
	// (applied all the same, with a Warning).
	applyRoute(t, ns, "web", "app.example.com", "")
	applyRoute(t, ns, "other", "other.example.com", "")
	kubectl(t, "", "-n", ns, "annotate", "route", "web", "other", "certinel.io/certs-from-secret=good")
	for _, name := range []string{"web", "other"} {
		waitRoute(t, ns, name, func(tls *routev1.TLSConfig) string {
			if tls == nil || tls.Certificate == "" {
				return "no certificate on Route " + name
			}
			return ""
		})
	}
	waitForEvent(t, ns, "other", "CertificateHostMismatch")
	// An Ingress (the certificate covers app.example.com, not
	// shop.example.com) and a reloaded Deployment.
	applyIngress(t, ns, "shop", "")
	kubectl(t, "", "-n", ns, "annotate", "ingress", "shop", "certinel.io/certs-from-secret=good")
	waitForEvent(t, ns, "shop", "CertificateHostMismatch")
	kubectl(t, deploymentYAML(ns, "app", map[string]string{"certinel.io/reload-secrets": "good"}, mountsAppTLS), "apply", "-f", "-")
	testutil.Eventually(t, 30*time.Second, func() string {
		if getDeployment(t, ns, "app").Annotations["certinel.io/config-hash"] == "" {
			return "no baseline on Deployment app"
		}
		return ""
	})
	// Cluster-scoped targets, seen with -A: one injected, one whose source
	// does not exist.
	injected, missing := "v-status-"+ns, "v-status-missing-"+ns
	t.Cleanup(func() {
		_, _ = cluster.Kubectl(context.Background(), "", "delete", "validatingwebhookconfiguration", injected, missing, "--ignore-not-found")
	})
	kubectl(t, webhooksYAML("ValidatingWebhookConfiguration", injected, ns), "apply", "-f", "-")
	kubectl(t, webhooksYAML("ValidatingWebhookConfiguration", missing, ns), "apply", "-f", "-")
	kubectl(t, "", "annotate", "validatingwebhookconfiguration", injected, annInjectFrom+"="+ns+"/good")
	kubectl(t, "", "annotate", "validatingwebhookconfiguration", missing, annInjectFrom+"="+ns+"/nothing")
	waitForEvent(t, "default", injected, "CAInjected")
	waitForEvent(t, "default", missing, "MissingCASource")

	// Pending: asked for while certinel is down.
	certinel.Stop()
	restarted := false
	defer func() {
		if !restarted {
			if err := certinel.Start(context.Background()); err != nil {
				t.Error(err)
			}
		}
	}()
	applyTLSSecret(t, ns, "later", tls, map[string]string{"certinel.io/keystores": "pkcs12"})

	plugins := t.TempDir()
	if err := os.Symlink(certinelBin, filepath.Join(plugins, "kubectl-certinel")); err != nil {
		t.Fatal(err)
	}
	kubectlCertinel := func(args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(cluster.Bin, "kubectl"), append([]string{"certinel", "status"}, args...)...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig, "PATH="+plugins+string(os.PathListSeparator)+os.Getenv("PATH"))
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl certinel status %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
		}
		return out.String(), errOut.String()
	}

	table, stderr := kubectlCertinel("-n", ns)
	t.Logf("kubectl certinel status -n %s:\n%s", ns, table)
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
	mustContain(t, "table", table, "OBJECT", "FEATURE", "STATE", "EXPIRY", "LAST WRITE")
	leafExpiry, caExpiry := expiryOf(t, tls.Cert), expiryOf(t, tls.CA)
	if !strings.HasSuffix(leafExpiry, "(89d)") {
		t.Errorf("leaf expiry %q, want 89 days left", leafExpiry)
	}
	wantRow(t, table, "secret/good", "keystores", "up to date", leafExpiry, " ago")
	wantRow(t, table, "secret/mismatch", "keystores", "bad input (KeyCertificateMismatch)", leafExpiry, "never")
	wantRow(t, table, "secret/format", "keystores", "bad input (UnknownKeystoreFormat)", leafExpiry, "never")
	wantRow(t, table, "secret/later", "keystores", "pending", leafExpiry, "never")
	wantRow(t, table, "configmap/trust", "inject-ca", "up to date", caExpiry, " ago")
	wantRow(t, table, "route/web", "route", "up to date", leafExpiry, " ago")
	wantRow(t, table, "route/other", "route", "up to date (warning: CertificateHostMismatch)", leafExpiry, " ago")
	wantRow(t, table, "ingress/shop", "ingress", "up to date (warning: CertificateHostMismatch)", leafExpiry, " ago")
	wantRow(t, table, "deployment/app", "reload", "up to date", "-", " ago")
	if n := len(strings.Split(strings.TrimSpace(table), "\n")); n != 10 {
		t.Errorf("%d lines, want a header and 9 rows (no cluster-scoped ones without -A)", n)
	}

	// Wide: the Warning's message and what is pending.
	wide, _ := kubectlCertinel("-n", ns, "-o", "wide")
	wantRow(t, wide, "secret/mismatch", "bad input (KeyCertificateMismatch)", "never", "tls.key")
	wantRow(t, wide, "secret/later", "pending", "never", "not written yet: keystore.p12, truststore.p12")

	// certinel back: the pending Secret gets its stores and is up to date.
	if err := certinel.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitForKeys(t, ns, "later", "keystore.p12", "truststore.p12")
	table, _ = kubectlCertinel("-n", ns)
	wantRow(t, table, "secret/later", "keystores", "up to date", leafExpiry, " ago")

	// JSON, across namespaces.
	js, _ := kubectlCertinel("-A", "-o", "json")
	var rows []status.Row
	if err := json.Unmarshal([]byte(js), &rows); err != nil {
		t.Fatalf("json: %v\n%s", err, js)
	}
	found := 0
	for _, r := range rows {
		if r.Namespace == "" && r.Kind == "ValidatingWebhookConfiguration" {
			switch r.Name {
			case injected:
				found++
				if r.State != status.UpToDate || r.LastWrite == nil || r.NotAfter == nil || status.FormatExpiry(r.NotAfter, time.Now()) != caExpiry {
					t.Errorf("json row of %s: %+v", r.Name, r)
				}
			case missing:
				found++
				if r.State != status.BadInput || r.Reason != "MissingCASource" || r.LastWrite != nil {
					t.Errorf("json row of %s: %+v", r.Name, r)
				}
			}
		}
		if r.Namespace != ns {
			continue
		}
		found++
		if r.Kind == "Secret" && r.Name == "mismatch" && (r.State != status.BadInput || r.Reason != "KeyCertificateMismatch" || r.LastWrite != nil || r.NotAfter == nil) {
			t.Errorf("json row of mismatch: %+v", r)
		}
		if r.Kind == "Secret" && r.Name == "good" && (r.State != status.UpToDate || r.LastWrite == nil || time.Since(*r.LastWrite) > 10*time.Minute) {
			t.Errorf("json row of good: %+v", r)
		}
	}
	if found != 11 {
		t.Errorf("json: %d rows in namespace %s and of its webhook configurations, want 9 + 2:\n%s", found, ns, js)
	}
	all, _ := kubectlCertinel("-A")
	mustContain(t, "-A table", all, "NAMESPACE")
	if !strings.HasPrefix(statusRow(t, all, "validatingwebhookconfiguration/"+missing), "- ") {
		t.Errorf("-A row of a cluster-scoped object does not start with -:\n%s", all)
	}
	wantRow(t, all, "validatingwebhookconfiguration/"+missing, "inject-ca", "bad input (MissingCASource)", "-", "never")
	wantRow(t, all, "secret/mismatch", "bad input (KeyCertificateMismatch)")
	if !strings.HasPrefix(statusRow(t, all, "secret/mismatch"), ns+" ") {
		t.Errorf("-A row does not start with the namespace:\n%s", all)
	}
}

// A user who may read only Secrets and ConfigMaps of a namespace still gets
// their rows; the kinds they may not read are named on stderr.
func TestStatusForbiddenKinds(t *testing.T) {
	ns := namespace(t)
	tls := newTLS(t, framework.SEC1)
	applyTLSSecret(t, ns, "good", tls, map[string]string{"certinel.io/keystores": "jks"})
	waitForKeys(t, ns, "good", "keystore.jks")
	user := "status-viewer-" + ns
	kubeconfig, err := cluster.WriteKubeconfig(user, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, "", "-n", ns, "create", "role", "status-viewer", "--verb=get,list", "--resource=secrets,configmaps,events.events.k8s.io")
	kubectl(t, "", "-n", ns, "create", "rolebinding", "status-viewer", "--role=status-viewer", "--user="+user)

	cmd := exec.Command(certinelBin, "status", "--kubeconfig", kubeconfig, "-n", ns)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("certinel status: %v\n%s%s", err, out.String(), errOut.String())
	}
	wantRow(t, out.String(), "secret/good", "keystores", "up to date", " ago")
	mustContain(t, "stderr", errOut.String(), "could not read", "ingresses.networking.k8s.io", "deployments.apps", "routes.route.openshift.io")
	if strings.Contains(errOut.String(), "secrets") || strings.Contains(errOut.String(), "events") {
		t.Errorf("stderr names kinds the user may read: %s", errOut.String())
	}
}
