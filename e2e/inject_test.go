package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/testutil"
)

const annInjectFrom = "certinel.io/inject-ca-from"

// getObject reads a cluster object as unstructured.
func getObject(t *testing.T, gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// commonNames lists the subjects of a PEM bundle, in order ("" for no bundle).
func commonNames(bundle []byte) string {
	certs, err := pki.ParseCertificates(bundle)
	if err != nil {
		return ""
	}
	var out []string
	for _, c := range certs {
		out = append(out, c.Subject.CommonName)
	}
	return strings.Join(out, ",")
}

// caBundles returns the decoded caBundle strings at path under each item of
// list (or at path itself when list is empty).
func caBundles(u *unstructured.Unstructured, list string, path ...string) []string {
	var objs []map[string]any
	if list == "" {
		objs = []map[string]any{u.Object}
	} else {
		items, _, _ := unstructured.NestedSlice(u.Object, list)
		for _, it := range items {
			objs = append(objs, it.(map[string]any))
		}
	}
	var out []string
	for _, o := range objs {
		v, _, _ := unstructured.NestedString(o, path...)
		b, _ := base64.StdEncoding.DecodeString(v)
		out = append(out, commonNames(b))
	}
	return out
}

// applyClusterTargets applies the cluster-scoped CA injection targets of
// one test: two webhook configurations with two webhooks each, a CRD with a
// conversion webhook, and an APIService, all backed by services in ns.
// prefix keeps the names of two tests on one namespace apart. They are
// deleted when the test ends: an APIService nobody serves disturbs
// discovery for the tests after it.
func applyClusterTargets(t *testing.T, prefix, ns string) (validating, mutating, crd, apiSvc string) {
	t.Helper()
	validating, mutating = prefix+"v-"+ns, prefix+"m-"+ns
	group := ns + "." + prefix + "certinel.example.com"
	crd = "widgets." + group
	apiGroup := "api-" + group
	apiSvc = "v1alpha1." + apiGroup
	t.Cleanup(func() {
		_, _ = cluster.Kubectl(context.Background(), "", "delete", "apiservice", apiSvc, "--ignore-not-found")
		_, _ = cluster.Kubectl(context.Background(), "", "delete", "crd", crd, "--ignore-not-found")
		_, _ = cluster.Kubectl(context.Background(), "", "delete", "validatingwebhookconfiguration,mutatingwebhookconfiguration", validating, mutating, "--ignore-not-found")
	})
	kubectl(t, webhooksYAML("ValidatingWebhookConfiguration", validating, ns), "apply", "-f", "-")
	kubectl(t, webhooksYAML("MutatingWebhookConfiguration", mutating, ns), "apply", "-f", "-")
	kubectl(t, fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %s}
spec:
  group: %s
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
  - {name: v2, served: true, storage: false, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: ["v1"]
      clientConfig: {service: {namespace: %s, name: convert, path: /convert}}
`, crd, group, ns), "apply", "-f", "-")
	kubectl(t, fmt.Sprintf(`apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: %s}
spec: {group: %s, version: v1alpha1, service: {namespace: %s, name: api}, groupPriorityMinimum: 1000, versionPriority: 15}
`, apiSvc, apiGroup, ns), "apply", "-f", "-")
	return validating, mutating, crd, apiSvc
}

// waitBundles waits until every bundle of the object names want, in order.
func waitBundles(t *testing.T, gvk schema.GroupVersionKind, ns, name string, read func(*unstructured.Unstructured) []string, want string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() string {
		got := read(getObject(t, gvk, ns, name))
		if len(got) == 0 || slices.ContainsFunc(got, func(s string) bool { return s != want }) {
			u := getObject(t, gvk, ns, name)
			u.SetManagedFields(nil)
			b, _ := json.Marshal(u.Object)
			return fmt.Sprintf("%s %s bundles %q, want each %q: %s", gvk.Kind, name, got, want, b)
		}
		return ""
	})
}

var (
	validatingGVK = schema.GroupVersionKind{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingWebhookConfiguration"}
	mutatingGVK   = schema.GroupVersionKind{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "MutatingWebhookConfiguration"}
	crdGVK        = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
	apiServiceGVK = schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIService"}
	configMapGVK  = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
)

func webhooksYAML(kind, name, ns string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: admissionregistration.k8s.io/v1\nkind: %s\nmetadata:\n  name: %s\nwebhooks:\n", kind, name)
	for _, hook := range []string{"a", "b"} {
		fmt.Fprintf(&b, `- name: %s.%s.certinel.example.com
  clientConfig:
    service: {namespace: %s, name: webhook, path: /%s}
  rules: [{apiGroups: ["certinel.example.com"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["nothings"]}]
  sideEffects: None
  admissionReviewVersions: ["v1"]
  failurePolicy: Ignore
`, hook, ns, ns, hook)
	}
	return b.String()
}

// A webhook configuration with two webhooks, a CRD conversion webhook and
// an APIService get the CA of a Secret in every caBundle; a CA rotation
// keeps the previous CA after the new one; removing the annotation takes
// the bundles back; nothing is written while quiet or across a restart.
func TestInjectClusterTargets(t *testing.T) {
	ns := namespace(t)
	first, second := newTLS(t, framework.SEC1), newTLS(t, framework.SEC1)
	kubectl(t, "", "-n", ns, "create", "secret", "generic", "root-ca", "--from-literal=ca.crt="+string(first.CA))
	source := ns + "/root-ca"
	firstCN := commonNames(first.CA)

	hooks := func(u *unstructured.Unstructured) []string {
		return caBundles(u, "webhooks", "clientConfig", "caBundle")
	}
	conversion := func(u *unstructured.Unstructured) []string {
		return caBundles(u, "", "spec", "conversion", "webhook", "clientConfig", "caBundle")
	}
	apiBundle := func(u *unstructured.Unstructured) []string { return caBundles(u, "", "spec", "caBundle") }

	validating, mutating, crd, apiSvc := applyClusterTargets(t, "", ns)
	kubectl(t, "", "annotate", "validatingwebhookconfiguration", validating, annInjectFrom+"="+source)
	kubectl(t, "", "annotate", "mutatingwebhookconfiguration", mutating, annInjectFrom+"="+source)
	kubectl(t, "", "annotate", "crd", crd, annInjectFrom+"="+source)
	kubectl(t, "", "annotate", "apiservice", apiSvc, annInjectFrom+"="+source)
	waitBundles(t, validatingGVK, "", validating, hooks, firstCN)
	waitBundles(t, mutatingGVK, "", mutating, hooks, firstCN)
	waitBundles(t, crdGVK, "", crd, conversion, firstCN)
	waitBundles(t, apiServiceGVK, "", apiSvc, apiBundle, firstCN)
	mustContain(t, "Event", waitForEvent(t, "default", validating, "CAInjected"), "injected 1 CA certificate(s) from secret:"+source)

	t.Run("a CA rotation keeps the previous CA", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "patch", "secret", "root-ca", "-p", fmt.Sprintf(`{"stringData":{"ca.crt":%q}}`, second.CA))
		both := commonNames(second.CA) + "," + firstCN
		waitBundles(t, validatingGVK, "", validating, hooks, both)
		waitBundles(t, mutatingGVK, "", mutating, hooks, both)
		waitBundles(t, crdGVK, "", crd, conversion, both)
		waitBundles(t, apiServiceGVK, "", apiSvc, apiBundle, both)
	})

	t.Run("nothing is written while quiet or across a restart", func(t *testing.T) {
		rvs := map[string]string{}
		read := func() {
			for _, o := range []struct {
				gvk  schema.GroupVersionKind
				name string
			}{{validatingGVK, validating}, {mutatingGVK, mutating}, {crdGVK, crd}, {apiServiceGVK, apiSvc}} {
				rv := getObject(t, o.gvk, "", o.name).GetResourceVersion()
				if prev, ok := rvs[o.name]; ok && prev != rv {
					t.Errorf("%s %s was written (resourceVersion %s → %s)", o.gvk.Kind, o.name, prev, rv)
				}
				rvs[o.name] = rv
			}
		}
		read()
		time.Sleep(2 * time.Second)
		read()
		certinel.Stop()
		if err := certinel.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitInjectIdle(t, "validatingwebhookconfiguration", "mutatingwebhookconfiguration", "customresourcedefinition", "apiservice")
		read()
		if got := metric(t, "certinel_writes_total", `controller="inject-validatingwebhookconfiguration"`); got != 0 {
			t.Errorf("%v webhook configuration writes after a restart, want 0", got)
		}
	})

	t.Run("removing the annotation takes the bundles back", func(t *testing.T) {
		kubectl(t, "", "annotate", "validatingwebhookconfiguration", validating, annInjectFrom+"-")
		waitBundles(t, validatingGVK, "", validating, hooks, "")
		u := getObject(t, validatingGVK, "", validating)
		if _, ok := u.GetAnnotations()["certinel.io/injected-cas"]; ok {
			t.Error("certinel.io/injected-cas is still there")
		}
		if n := len(hooks(u)); n != 2 {
			t.Errorf("%d webhooks left, want the user's 2", n)
		}
	})
}

// waitInjectIdle waits until every injection controller has nothing queued
// or in progress, and those of the kinds named (which have annotated
// objects in the test) have reconciled since certinel started.
func waitInjectIdle(t *testing.T, annotated ...string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() string {
		for _, kind := range []string{"validatingwebhookconfiguration", "mutatingwebhookconfiguration", "customresourcedefinition", "apiservice", "configmap", "secret"} {
			minReconciles := 0.0
			if slices.Contains(annotated, kind) {
				minReconciles = 1
			}
			if why := busy(t, "inject-"+kind, minReconciles); why != "" {
				return why
			}
		}
		return ""
	})
}

// ConfigMap and Secret targets: other keys stay, an empty Secret works, a
// source in another namespace needs its consent.
func TestInjectConfigMapAndSecretTargets(t *testing.T) {
	ns, pkiNS := namespace(t), namespace(t)
	ca := newTLS(t, framework.SEC1)
	kubectl(t, "", "-n", pkiNS, "create", "secret", "generic", "root-ca", "--from-literal=ca.crt="+string(ca.CA))
	kubectl(t, "", "-n", ns, "create", "secret", "generic", "local-ca", "--from-literal=ca.crt="+string(ca.CA))
	kubectl(t, "", "-n", ns, "create", "configmap", "trust", "--from-literal=other=keep me")
	kubectl(t, "", "-n", ns, "annotate", "configmap", "trust", annInjectFrom+"="+pkiNS+"/root-ca")
	mustContain(t, "Event", waitForEvent(t, ns, "trust", "SourceNotShared"), "namespace "+pkiNS)

	kubectl(t, "", "-n", pkiNS, "annotate", "secret", "root-ca", "certinel.io/share-certificates-with="+ns)
	testutil.Eventually(t, 30*time.Second, func() string {
		u := getObject(t, configMapGVK, ns, "trust")
		got, _, _ := unstructured.NestedString(u.Object, "data", "ca.crt")
		other, _, _ := unstructured.NestedString(u.Object, "data", "other")
		if commonNames([]byte(got)) != commonNames(ca.CA) || other != "keep me" {
			return fmt.Sprintf("ConfigMap data ca.crt=%q other=%q", commonNames([]byte(got)), other)
		}
		return ""
	})

	kubectl(t, "", "-n", ns, "create", "secret", "generic", "empty")
	kubectl(t, "", "-n", ns, "annotate", "secret", "empty", annInjectFrom+"=local-ca", "certinel.io/inject-ca-key=bundle.pem")
	s := waitForKeys(t, ns, "empty", "bundle.pem")
	if commonNames(s.Data["bundle.pem"]) != commonNames(ca.CA) || len(s.Data) != 1 {
		t.Errorf("Secret empty holds %v", yet(s))
	}

	t.Run("removing the annotation removes only certinel's key", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "annotate", "configmap", "trust", annInjectFrom+"-")
		testutil.Eventually(t, 30*time.Second, func() string {
			u := getObject(t, configMapGVK, ns, "trust")
			data, _, _ := unstructured.NestedStringMap(u.Object, "data")
			if len(data) != 1 || data["other"] != "keep me" {
				return fmt.Sprintf("ConfigMap data %v, want only other", data)
			}
			return ""
		})
	})
}

// Bad input never crashes certinel and leaves the target as it was.
func TestInjectBadInput(t *testing.T) {
	ns := namespace(t)
	tls := newTLS(t, framework.SEC1)
	kubectl(t, "", "-n", ns, "create", "secret", "generic", "key-only", "--from-literal=ca.crt="+string(tls.Key))
	kubectl(t, "", "-n", ns, "create", "secret", "generic", "no-ca", "--from-literal=other=x")
	cases := map[string]struct{ value, reason string }{
		"no slash where one is needed":  {ns, "InvalidAnnotation"},
		"empty parts":                   {"/root-ca", "InvalidAnnotation"},
		"too many parts":                {ns + "/a/b/c", "InvalidAnnotation"},
		"missing source":                {ns + "/nope", "MissingCASource"},
		"source without the key":        {ns + "/no-ca", "MissingSourceKey"},
		"PEM that is not a certificate": {ns + "/key-only", "NoCertificate"},
	}
	i := 0
	for name, tc := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			hook := fmt.Sprintf("bad-%d-%s", i, ns)
			kubectl(t, webhooksYAML("ValidatingWebhookConfiguration", hook, ns), "apply", "-f", "-")
			t.Cleanup(func() {
				_, _ = cluster.Kubectl(context.Background(), "", "delete", "validatingwebhookconfiguration", hook)
			})
			kubectl(t, "", "annotate", "validatingwebhookconfiguration", hook, annInjectFrom+"="+tc.value)
			waitForEvent(t, "default", hook, tc.reason)
			u := getObject(t, validatingGVK, "", hook)
			if got := caBundles(u, "webhooks", "clientConfig", "caBundle"); slices.ContainsFunc(got, func(s string) bool { return s != "" }) {
				t.Errorf("bundles %q written despite %s", got, tc.reason)
			}
		})
	}
	t.Run("a CRD without a conversion webhook", func(t *testing.T) {
		group := "plain." + ns + ".certinel.example.com"
		crd := "things." + group
		kubectl(t, fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %s}
spec:
  group: %s
  names: {plural: things, singular: thing, kind: Thing, listKind: ThingList}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`, crd, group), "apply", "-f", "-")
		t.Cleanup(func() { _, _ = cluster.Kubectl(context.Background(), "", "delete", "crd", crd) })
		kubectl(t, "", "-n", ns, "create", "secret", "generic", "ca", "--from-literal=ca.crt="+string(tls.CA))
		kubectl(t, "", "annotate", "crd", crd, annInjectFrom+"="+ns+"/ca")
		mustContain(t, "Event", waitForEvent(t, "default", crd, "TargetNotInjectable"), "no conversion webhook")
	})
}

// A ConfigMap holding a CA bundle (here OpenShift's service CA key name)
// becomes truststores for Java clients; with injection, the truststore
// follows a CA rotation in the same write.
func TestBundleTruststores(t *testing.T) {
	ns := namespace(t)
	a, b, c := newTLS(t, framework.SEC1), newTLS(t, framework.SEC1), newTLS(t, framework.SEC1)
	kubectl(t, "", "-n", ns, "create", "configmap", "service-ca", "--from-literal=service-ca.crt="+string(a.CA)+string(b.CA))
	kubectl(t, "", "-n", ns, "annotate", "configmap", "service-ca", "certinel.io/truststores=jks,pkcs12", "certinel.io/truststore-key=service-ca.crt")
	stores := func(name string, entries int) map[string][]byte {
		var got map[string][]byte
		testutil.Eventually(t, 30*time.Second, func() string {
			u := getObject(t, configMapGVK, ns, name)
			bin, _, _ := unstructured.NestedStringMap(u.Object, "binaryData")
			got = map[string][]byte{}
			for k, v := range bin {
				got[k], _ = base64.StdEncoding.DecodeString(v)
			}
			if len(got["truststore.jks"]) == 0 || len(got["truststore.p12"]) == 0 {
				return fmt.Sprintf("binaryData has %d keys", len(got))
			}
			out, err := runErr("keytool", "-list", "-keystore", testutil.WriteFile(t, "ts.jks", got["truststore.jks"]), "-storepass", "changeit")
			if err != nil || !strings.Contains(out, fmt.Sprintf("Your keystore contains %d entries", entries)) {
				return "truststore.jks: " + out
			}
			return ""
		})
		out := runCmd(t, "keytool", "-list", "-storetype", "PKCS12", "-keystore", testutil.WriteFile(t, "ts.p12", got["truststore.p12"]), "-storepass", "changeit")
		mustContain(t, "truststore.p12", out, fmt.Sprintf("Your keystore contains %d entries", entries))
		return got
	}
	first := stores("service-ca", 2)
	rv := getObject(t, configMapGVK, ns, "service-ca").GetResourceVersion()
	time.Sleep(2 * time.Second)
	if got := getObject(t, configMapGVK, ns, "service-ca").GetResourceVersion(); got != rv {
		t.Errorf("the ConfigMap was written while nothing changed (%s → %s)", rv, got)
	}
	kubectl(t, "", "-n", ns, "patch", "configmap", "service-ca", "-p", fmt.Sprintf(`{"data":{"service-ca.crt":%q}}`, string(a.CA)+string(b.CA)+string(c.CA)))
	if second := stores("service-ca", 3); string(second["truststore.jks"]) == string(first["truststore.jks"]) {
		t.Error("truststore.jks did not change with the bundle")
	}

	t.Run("injection and truststores in one ConfigMap", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "create", "secret", "generic", "root-ca", "--from-literal=ca.crt="+string(a.CA))
		kubectl(t, "", "-n", ns, "create", "configmap", "trust")
		kubectl(t, "", "-n", ns, "annotate", "configmap", "trust", annInjectFrom+"=root-ca", "certinel.io/truststores=jks,pkcs12")
		testutil.Eventually(t, 30*time.Second, func() string {
			u := getObject(t, configMapGVK, ns, "trust")
			bin, _, _ := unstructured.NestedStringMap(u.Object, "binaryData")
			if bin["truststore.jks"] == "" {
				return "no truststore.jks"
			}
			return ""
		})
		kubectl(t, "", "-n", ns, "patch", "secret", "root-ca", "-p", fmt.Sprintf(`{"stringData":{"ca.crt":%q}}`, b.CA))
		stores("trust", 2) // the new CA and the previous one
	})

	t.Run("a new password re-encrypts the truststores", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "create", "secret", "generic", "store-pw", "--from-literal=password=first-pw")
		kubectl(t, "", "-n", ns, "annotate", "configmap", "service-ca", "certinel.io/keystore-password-secret=store-pw")
		opens := func(pw string) string {
			u := getObject(t, configMapGVK, ns, "service-ca")
			bin, _, _ := unstructured.NestedStringMap(u.Object, "binaryData")
			jks, _ := base64.StdEncoding.DecodeString(bin["truststore.jks"])
			if _, err := runErr("keytool", "-list", "-keystore", testutil.WriteFile(t, "ts.jks", jks), "-storepass", pw); err != nil {
				return "truststore.jks does not open with " + pw
			}
			return ""
		}
		testutil.Eventually(t, 30*time.Second, func() string { return opens("first-pw") })
		kubectl(t, "", "-n", ns, "patch", "secret", "store-pw", "-p", `{"stringData":{"password":"second-pw"}}`)
		testutil.Eventually(t, 30*time.Second, func() string { return opens("second-pw") })
	})

	t.Run("removing one of two features removes only its fields", func(t *testing.T) {
		kubectl(t, "", "-n", ns, "annotate", "configmap", "trust", "certinel.io/truststores-")
		testutil.Eventually(t, 30*time.Second, func() string {
			u := getObject(t, configMapGVK, ns, "trust")
			bin, _, _ := unstructured.NestedStringMap(u.Object, "binaryData")
			ca, _, _ := unstructured.NestedString(u.Object, "data", "ca.crt")
			if len(bin) != 0 || ca == "" {
				return fmt.Sprintf("binaryData %d keys, ca.crt %d bytes: want the stores gone and the bundle kept", len(bin), len(ca))
			}
			if _, ok := u.GetAnnotations()["certinel.io/truststores-fingerprint"]; ok {
				return "the truststores fingerprint is still there"
			}
			return ""
		})
	})

	t.Run("truststores and keystores on one object", func(t *testing.T) {
		applyTLSSecret(t, ns, "both", a, map[string]string{annKeystores: "jks", "certinel.io/truststores": "jks"})
		mustContain(t, "Event", waitForEvent(t, ns, "both", "InvalidAnnotation"), "certinel.io/truststores")
	})
}
