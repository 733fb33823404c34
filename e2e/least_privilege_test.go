package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/testutil"
)

// chartIdentity is certinel installed from the rendered chart: its
// ServiceAccount, roles and bindings applied to the API server, a token of
// the ServiceAccount, and the manager args of the rendered Deployment.
type chartIdentity struct {
	release    string // release namespace: ServiceAccount and Lease
	sa         string // ServiceAccount name
	user       string // system:serviceaccount:<release>:<sa>
	kubeconfig string // token of the ServiceAccount
	args       []string
	objects    []*unstructured.Unstructured // everything the chart renders
}

var rbacKinds = []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// installChartIdentity renders the chart into a new release namespace with
// the given --set values, applies its ServiceAccount and RBAC, and writes
// a kubeconfig with a token of that ServiceAccount (TokenRequest), so that
// certinel authenticates exactly as its pod would.
func installChartIdentity(t *testing.T, set string) *chartIdentity {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := &chartIdentity{release: namespace(t), sa: "certinel-lp-" + hex.EncodeToString(b)}
	id.user = "system:serviceaccount:" + id.release + ":" + id.sa
	values := "fullnameOverride=" + id.sa
	if set != "" {
		values += "," + set
	}
	id.objects = helmTemplate(t, id.release, "--set", values)
	var apply []any
	for _, o := range id.objects {
		if slices.Contains(rbacKinds, o.GetKind()) {
			apply = append(apply, o.Object)
		}
	}
	list, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": apply})
	kubectl(t, string(list), "apply", "-f", "-")
	t.Cleanup(func() {
		_, _ = cluster.Kubectl(ctx, "", "delete", "clusterrole,clusterrolebinding", id.sa, "--ignore-not-found")
	})

	token := strings.TrimSpace(kubectl(t, "", "-n", id.release, "create", "token", id.sa, "--duration=2h"))
	cfg, err := clientcmd.LoadFromFile(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuthInfos = map[string]*clientcmdapi.AuthInfo{id.sa: {Token: token}}
	for _, c := range cfg.Contexts {
		c.AuthInfo = id.sa
	}
	id.kubeconfig = filepath.Join(cluster.Dir, id.sa+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, id.kubeconfig); err != nil {
		t.Fatal(err)
	}
	if who := kubectlAs(t, id.kubeconfig, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); who != id.user {
		t.Fatalf("the token authenticates as %q, want %q", who, id.user)
	}

	for _, a := range managerArgs(t, id.objects) {
		if strings.HasPrefix(a, "--metrics-bind-address=") || strings.HasPrefix(a, "--health-probe-bind-address=") {
			continue // the framework gives free ports
		}
		id.args = append(id.args, strings.ReplaceAll(a, "$(POD_NAMESPACE)", id.release))
	}
	return id
}

func kubectlAs(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, err := cluster.KubectlAs(context.Background(), kubeconfig, "", args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// canI asks the API server whether the identity may do something.
func (id *chartIdentity) canI(t *testing.T, args ...string) bool {
	t.Helper()
	out, err := cluster.Kubectl(context.Background(), "", append([]string{"auth", "can-i", "--as=" + id.user}, args...)...)
	switch strings.TrimSpace(out) {
	case "yes":
		return true
	case "no":
		return false
	}
	t.Fatalf("kubectl auth can-i %v: %q %v", args, out, err)
	return false
}

// start runs certinel with the identity's kubeconfig and the chart's args,
// while the suite's certinel pauses (one writer at a time).
func (id *chartIdentity) start(t *testing.T) *framework.Certinel {
	t.Helper()
	ctx := context.Background()
	certinel.Stop()
	t.Cleanup(func() {
		if err := certinel.Start(ctx); err != nil {
			t.Error(err)
		}
	})
	c, err := framework.StartCertinel(ctx, certinelBin, id.kubeconfig, filepath.Join(cluster.Dir, id.sa+".log"), id.args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	testutil.Eventually(t, 30*time.Second, func() string {
		var lease coordinationv1.Lease
		if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: id.release, Name: "certinel.io"}, &lease); err != nil {
			return "no Lease: " + err.Error()
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			return "the Lease has no holder"
		}
		return ""
	})
	return c
}

var forbidden = regexp.MustCompile(`(?i)forbidden`)

// noForbidden fails when certinel's log has a Forbidden error, or any
// error but a write conflict.
func noForbidden(t *testing.T, c *framework.Certinel) {
	t.Helper()
	b, err := os.ReadFile(c.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if forbidden.MatchString(l) {
			lines = append(lines, l)
		}
	}
	if len(lines) > 0 {
		t.Errorf("%d Forbidden lines in certinel's log, e.g.:\n%s", len(lines), strings.Join(lines[:min(len(lines), 5)], "\n"))
	}
	// Errors other than optimistic-concurrency conflicts with the test's
	// own kubectl writes (retried at once) would be a refusal too.
	errs := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, `"level":"error"`) && !strings.Contains(l, "the object has been modified") {
			if errs++; errs <= 3 {
				t.Errorf("error in certinel's log: %.600s", l)
			}
		}
	}
	if errs > 3 {
		t.Errorf("%d errors in certinel's log %s", errs, c.LogPath)
	}
	if !strings.Contains(string(b), "Starting workers") {
		t.Errorf("no controller started; log %s", c.LogPath)
	}
}

// exerciseNamespacedFeatures uses every feature that works inside
// namespaces: keystores with a password Secret and a ConfigMap truststore
// source, a keystores-target Secret created and deleted, CA injection into
// a ConfigMap and a Secret, a Route, an Ingress with a mirror of a Secret
// of another namespace (pki), the reload of a Deployment, expiry gauges and
// Warnings, and Events.
func exerciseNamespacedFeatures(t *testing.T, c *framework.Certinel, ns, pki string) {
	t.Helper()
	tls := newTLS(t, framework.SEC1)
	kubectl(t, "", "-n", ns, "create", "secret", "generic", "store-pw", "--from-literal=password=s3cret-pw")
	kubectl(t, "", "-n", ns, "create", "configmap", "corp-ca", "--from-literal=ca.crt="+string(newTLS(t, framework.SEC1).CA))
	stores := map[string]string{annKeystores: "jks,pkcs12", "certinel.io/keystore-password-secret": "store-pw", "certinel.io/truststore-sources": "configmap:corp-ca"}

	t.Run("keystores", func(t *testing.T) {
		applyTLSSecret(t, ns, "app-tls", tls, stores)
		waitForKeys(t, ns, "app-tls", "keystore.jks", "truststore.jks", "keystore.p12", "truststore.p12")
		waitForEvent(t, ns, "app-tls", "KeystoresUpdated")
	})
	t.Run("keystores-target created and deleted", func(t *testing.T) {
		applyTLSSecret(t, ns, "owned-tls", tls, map[string]string{annKeystores: "jks", "certinel.io/keystores-target": "owned-stores"})
		waitForKeys(t, ns, "owned-stores", "keystore.jks")
		kubectl(t, "", "-n", ns, "annotate", "secret", "owned-tls", "certinel.io/keystores-target-")
		secretGone(t, ns, "owned-stores")
	})
	t.Run("CA injection into a ConfigMap and a Secret", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "create", "secret", "generic", "root-ca", "--from-literal=ca.crt="+string(tls.CA))
		kubectl(t, "", "-n", ns, "create", "configmap", "trust")
		kubectl(t, "", "-n", ns, "annotate", "configmap", "trust", annInjectFrom+"=root-ca")
		kubectl(t, "", "-n", ns, "create", "secret", "generic", "trust")
		kubectl(t, "", "-n", ns, "annotate", "secret", "trust", annInjectFrom+"=root-ca")
		want := commonNames(tls.CA)
		waitBundles(t, configMapGVK, ns, "trust", func(u *unstructured.Unstructured) []string {
			v, _, _ := unstructured.NestedString(u.Object, "data", "ca.crt")
			return []string{commonNames([]byte(v))}
		}, want)
		if got := commonNames(waitForKeys(t, ns, "trust", "ca.crt").Data["ca.crt"]); got != want {
			t.Errorf("Secret trust holds %q, want %q", got, want)
		}
	})
	t.Run("Route", func(t *testing.T) {
		applyRoute(t, ns, "web", "app.example.com", "")
		kubectl(t, "", "-n", ns, "annotate", "route", "web", "certinel.io/certs-from-secret=app-tls")
		waitRoute(t, ns, "web", func(c *routev1.TLSConfig) string {
			if c == nil || leafOf(c.Certificate) != leafOf(string(tls.Cert)) || c.Key == "" {
				return fmt.Sprintf("spec.tls %+v", c)
			}
			return ""
		})
	})
	t.Run("Ingress with a mirror from another namespace", func(t *testing.T) {
		applyTLSSecret(t, pki, "wildcard", newTLS(t, framework.SEC1), map[string]string{"certinel.io/allow-export-to": ns})
		applyIngress(t, ns, "web", "")
		kubectl(t, "", "-n", ns, "annotate", "ingress", "web", "certinel.io/certs-from-secret="+pki+"/wildcard")
		mirror := "web-certinel-" + pki + "-wildcard"
		waitForKeys(t, ns, mirror, "tls.crt", "tls.key")
		waitIngressTLS(t, ns, "web", map[string][]string{mirror: {"app.example.com", "shop.example.com"}})
		kubectl(t, "", "-n", ns, "annotate", "ingress", "web", "certinel.io/certs-from-secret-")
		secretGone(t, ns, mirror)
	})
	t.Run("expiry gauges and Warnings", func(t *testing.T) {
		soon, err := framework.NewTLSValid("app.example.com", framework.SEC1, time.Time{}, time.Now().Add(5*24*time.Hour), "app.example.com")
		if err != nil {
			t.Fatal(err)
		}
		applyTLSSecret(t, ns, "soon-tls", soon, nil)
		waitForEvent(t, ns, "soon-tls", "CertificateExpiringSoon")
		testutil.Eventually(t, 30*time.Second, func() string {
			if v, err := c.Metric("certinel_certificate_not_after_timestamp_seconds", `namespace="`+ns+`"`, `secret="soon-tls"`); err != nil || v == 0 {
				return fmt.Sprintf("no expiry gauge for soon-tls (%v)", err)
			}
			return ""
		})
	})
	t.Run("reload of a Deployment", func(t *testing.T) {
		kubectl(t, deploymentYAML(ns, "app", map[string]string{"certinel.io/reload-secrets": "app-tls"}, mountsAppTLS), "apply", "-f", "-")
		waitBaseline(t, ns, "app")
		waitReplicaSets(t, ns, "app", 1)
		applyTLSSecret(t, ns, "app-tls", newTLS(t, framework.PKCS1), stores)
		waitReplicaSets(t, ns, "app", 2)
		waitForEvent(t, ns, "app", "RolloutTriggered")
	})
}

// The chart's RBAC is enough for every feature and no more: certinel runs
// as the chart's ServiceAccount (a token from TokenRequest, bound by the
// rendered ClusterRoleBinding), every feature works, and its log has no
// Forbidden.
func TestLeastPrivilegeChartRBAC(t *testing.T) {
	id := installChartIdentity(t, "")
	if find(id.objects, "ClusterRole", "", id.sa) == nil {
		t.Fatalf("no ClusterRole rendered: %v", kinds(id.objects))
	}
	for _, q := range [][]string{
		{"list", "secrets", "--all-namespaces"},
		{"patch", "validatingwebhookconfigurations"},
		{"create", "leases", "-n", id.release},
	} {
		if !id.canI(t, q...) {
			t.Errorf("the ServiceAccount may not %v", q)
		}
	}
	for _, q := range [][]string{
		{"update", "secrets", "-n", "default"},                   // patch only
		{"create", "pods", "-n", "default"},                      // nothing but what certinel uses
		{"get", "leases", "-n", "kube-system"},                   // leader election in its namespace only
		{"update", "leases/other-lease", "-n", id.release},       // and only its own Lease
		{"delete", "validatingwebhookconfigurations"},            // injection patches
		{"get", "deployments.apps", "-n", "default"},             // reconciled kinds are read from the cache: list and watch
		{"get", "validatingwebhookconfigurations"},               // the same for cluster-scoped ones
		{"escalate", "clusterroles.rbac.authorization.k8s.io"},   // no RBAC at all
		{"create", "serviceaccounts/token", "-n", "kube-system"}, // no tokens
	} {
		if id.canI(t, q...) {
			t.Errorf("the ServiceAccount may %v", q)
		}
	}
	c := id.start(t)
	ns, pki := namespace(t), namespace(t)
	exerciseNamespacedFeatures(t, c, ns, pki)

	t.Run("CA injection into cluster-scoped objects", func(t *testing.T) {
		ca := newTLS(t, framework.SEC1)
		kubectl(t, "", "-n", pki, "create", "secret", "generic", "root-ca", "--from-literal=ca.crt="+string(ca.CA))
		source, want := pki+"/root-ca", commonNames(ca.CA)
		validating, mutating, crd, apiSvc := applyClusterTargets(t, "lp-", ns)
		kubectl(t, "", "annotate", "validatingwebhookconfiguration", validating, annInjectFrom+"="+source)
		kubectl(t, "", "annotate", "mutatingwebhookconfiguration", mutating, annInjectFrom+"="+source)
		kubectl(t, "", "annotate", "crd", crd, annInjectFrom+"="+source)
		kubectl(t, "", "annotate", "apiservice", apiSvc, annInjectFrom+"="+source)
		hooks := func(u *unstructured.Unstructured) []string {
			return caBundles(u, "webhooks", "clientConfig", "caBundle")
		}
		waitBundles(t, validatingGVK, "", validating, hooks, want)
		waitBundles(t, mutatingGVK, "", mutating, hooks, want)
		waitBundles(t, crdGVK, "", crd, func(u *unstructured.Unstructured) []string {
			return caBundles(u, "", "spec", "conversion", "webhook", "clientConfig", "caBundle")
		}, want)
		waitBundles(t, apiServiceGVK, "", apiSvc, func(u *unstructured.Unstructured) []string { return caBundles(u, "", "spec", "caBundle") }, want)
	})
	noForbidden(t, c)
}

// With watchNamespaces the chart grants nothing cluster-wide: no
// ClusterRole, no Secret outside the watched namespaces (kubectl auth
// can-i says so), and every namespaced feature still works without a
// Forbidden.
func TestLeastPrivilegeChartRBACNamespaces(t *testing.T) {
	ns, pki, other := namespace(t), namespace(t), namespace(t)
	id := installChartIdentity(t, "watchNamespaces={"+ns+","+pki+"}")
	for _, o := range id.objects {
		if o.GetKind() == "ClusterRole" || o.GetKind() == "ClusterRoleBinding" {
			t.Errorf("%s %s rendered with watchNamespaces", o.GetKind(), o.GetName())
		}
	}
	if !slices.Contains(id.args, "--namespaces="+ns+","+pki) {
		t.Fatalf("no --namespaces in %v", id.args)
	}
	for _, q := range [][]string{
		{"list", "secrets", "--all-namespaces"},
		{"get", "secrets", "-n", other},
		{"get", "secrets", "-n", id.release},
		{"get", "secrets", "-n", "kube-system"},
		{"watch", "configmaps", "--all-namespaces"},
		{"list", "validatingwebhookconfigurations"},
		{"list", "customresourcedefinitions"},
		{"list", "apiservices"},
		{"list", "routes.route.openshift.io", "--all-namespaces"},
		{"list", "deployments.apps", "-n", other},
	} {
		if id.canI(t, q...) {
			t.Errorf("the ServiceAccount may %v", q)
		}
	}
	for _, q := range [][]string{
		{"list", "secrets", "-n", ns},
		{"patch", "secrets", "-n", pki},
		{"patch", "routes.route.openshift.io", "-n", ns},
	} {
		if !id.canI(t, q...) {
			t.Errorf("the ServiceAccount may not %v", q)
		}
	}
	c := id.start(t)
	exerciseNamespacedFeatures(t, c, ns, pki)
	noForbidden(t, c)
}

// With routes.enabled=false the chart grants nothing on Routes and certinel
// (--routes=false) does not watch them, although the API server serves
// them: no Forbidden, and an annotated Route is left alone.
func TestLeastPrivilegeChartWithoutRoutes(t *testing.T) {
	id := installChartIdentity(t, "routes.enabled=false")
	if id.canI(t, "list", "routes.route.openshift.io", "--all-namespaces") {
		t.Error("the ServiceAccount may list Routes with routes.enabled=false")
	}
	if !slices.Contains(id.args, "--routes=false") {
		t.Fatalf("no --routes=false in %v", id.args)
	}
	c := id.start(t)
	ns := namespace(t)
	tls := newTLS(t, framework.SEC1)
	applyTLSSecret(t, ns, "app-tls", tls, map[string]string{annKeystores: "jks"})
	applyRoute(t, ns, "web", "app.example.com", "")
	kubectl(t, "", "-n", ns, "annotate", "route", "web", "certinel.io/certs-from-secret=app-tls")
	waitForKeys(t, ns, "app-tls", "keystore.jks")
	time.Sleep(2 * time.Second)
	if tls := getRoute(t, ns, "web").Spec.TLS; tls != nil {
		t.Errorf("certinel wrote the Route with --routes=false: %+v", tls)
	}
	noForbidden(t, c)
	if b, _ := os.ReadFile(c.LogPath); strings.Contains(string(b), `"controller":"routes"`) {
		t.Error("the routes controller started with --routes=false")
	}
}
