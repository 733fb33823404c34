package controllers

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/bundle"
	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/testpki"
)

// injectEnv is one InjectReconciler on a fake client with a fake clock.
type injectEnv struct {
	t     *testing.T
	c     client.WithWatch
	rec   *events.FakeRecorder
	clock *clocktesting.FakeClock
	r     *InjectReconciler
}

func newInjectEnv(t *testing.T, target injectTarget, objs ...client.Object) *injectEnv {
	e := &injectEnv{t: t, rec: events.NewFakeRecorder(100), clock: clocktesting.NewFakeClock(time.Now())}
	e.c = fake.NewClientBuilder().WithObjects(objs...).Build()
	e.r = &InjectReconciler{Client: e.c, Sources: NewSourceReader(e.c, e.c, nil), Recorder: e.rec, Clock: e.clock, target: target}
	return e
}

func (e *injectEnv) reconcile(ns, name string) reconcile.Result {
	e.t.Helper()
	res, err := e.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	if err != nil {
		e.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (e *injectEnv) events() []string { return drainEvents(e.rec) }

func (e *injectEnv) object(ns, name string) *unstructured.Unstructured {
	e.t.Helper()
	obj := e.r.newObject()
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
		e.t.Fatal(err)
	}
	u, err := toUnstructured(obj, e.r.target)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func webhookConfig(name string, ann map[string]string, hooks ...string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(validatingWebhooks.gvk)
	u.SetName(name)
	u.SetAnnotations(ann)
	var list []any
	for _, h := range hooks {
		list = append(list, map[string]any{"name": h, "clientConfig": map[string]any{"url": "https://example.com/" + h}})
	}
	_ = unstructured.SetNestedSlice(u.Object, list, "webhooks")
	return u
}

func bundleNames(t *testing.T, u *unstructured.Unstructured, target injectTarget, key string) []string {
	t.Helper()
	bundles, err := target.current(u, key)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bundles {
		certs, _ := pki.ParseCertificates(b)
		out = append(out, strings.Join(testpki.CommonNames(certs), ","))
	}
	return out
}

// A rotation keeps the previous CA after the new one until it expires, and
// the reconciler comes back exactly then.
func TestInjectRotation(t *testing.T) {
	oldCA := testpki.Issue(t, testpki.Template{CommonName: "old", IsCA: true, Key: testpki.NewKey(t, testpki.ECDSA),
		NotAfter: time.Now().Add(48 * time.Hour)}, nil)
	newCA := testpki.Issue(t, testpki.Template{CommonName: "new", IsCA: true, Key: testpki.NewKey(t, testpki.ECDSA)}, nil)
	src := inNamespace("pki", opaqueSecret("root-ca", map[string]string{"ca.crt": string(oldCA.PEM())}))
	e := newInjectEnv(t, validatingWebhooks, src, webhookConfig("hooks", map[string]string{annotations.InjectCAFrom: "pki/root-ca"}, "a", "b"))

	if res := e.reconcile("", "hooks"); res.RequeueAfter != 0 {
		t.Errorf("requeue after %v with nothing to expire", res.RequeueAfter)
	}
	if got := bundleNames(t, e.object("", "hooks"), validatingWebhooks, ""); strings.Join(got, "|") != "old|old" {
		t.Fatalf("bundles %q", got)
	}
	requireEvents(t, e.events(), "Normal "+ReasonCAInjected)
	e.reconcile("", "hooks")
	requireEvents(t, e.events()) // nothing changed: nothing written, nothing said

	var s corev1.Secret
	_ = e.c.Get(context.Background(), types.NamespacedName{Namespace: "pki", Name: "root-ca"}, &s)
	s.Data["ca.crt"] = newCA.PEM()
	if err := e.c.Update(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	res := e.reconcile("", "hooks")
	u := e.object("", "hooks")
	if got := bundleNames(t, u, validatingWebhooks, ""); strings.Join(got, "|") != "new,old|new,old" {
		t.Fatalf("bundles after the rotation %q, want the new CA then the old one", got)
	}
	if want := oldCA.Cert.NotAfter.Sub(e.clock.Now()); res.RequeueAfter != want {
		t.Errorf("requeue after %v, want %v (when the old CA expires)", res.RequeueAfter, want)
	}
	if h := u.GetAnnotations()[annotations.InjectedCAs]; !strings.Contains(h, bundle.Short(oldCA.Cert)) || !strings.Contains(h, bundle.Short(newCA.Cert)) {
		t.Errorf("history %q", h)
	}

	e.clock.SetTime(oldCA.Cert.NotAfter)
	e.reconcile("", "hooks")
	if got := bundleNames(t, e.object("", "hooks"), validatingWebhooks, ""); strings.Join(got, "|") != "new|new" {
		t.Fatalf("bundles once the old CA expired %q", got)
	}
}

func TestInjectBadInputLeavesTarget(t *testing.T) {
	keyOnly := opaqueSecret("key-only", map[string]string{"ca.crt": string(testpki.KeyPEM(t, testpki.NewKey(t, testpki.ECDSA)))})
	for value, reason := range map[string]string{
		"pki":             badinput.InvalidAnnotation,
		"/x":              badinput.InvalidAnnotation,
		"a/b/c/d":         badinput.InvalidAnnotation,
		"apps/missing":    badinput.MissingCASource,
		"apps/key-only":   badinput.NoCertificate,
		"apps/key-only/x": badinput.MissingSourceKey,
	} {
		t.Run(value, func(t *testing.T) {
			e := newInjectEnv(t, validatingWebhooks, keyOnly, webhookConfig("hooks", map[string]string{annotations.InjectCAFrom: value}, "a"))
			before := e.object("", "hooks")
			e.reconcile("", "hooks")
			requireEvents(t, e.events(), "Warning "+reason)
			if after := e.object("", "hooks"); after.GetResourceVersion() != before.GetResourceVersion() {
				t.Error("the target was written")
			}
		})
	}
}

// A ConfigMap in another namespace reads a source only with its consent.
func TestInjectConfigMapNeedsConsent(t *testing.T) {
	ca := newCA(t, "corp")
	src := inNamespace("pki", opaqueSecret("root-ca", map[string]string{"ca.crt": string(ca.pem)}))
	cm := configMap("trust", map[string]string{"other": "keep"})
	cm.Annotations = map[string]string{annotations.InjectCAFrom: "pki/root-ca"}
	e := newInjectEnv(t, configMapTarget, src, cm)
	e.reconcile(testNS, "trust")
	requireEvents(t, e.events(), "Warning "+badinput.SourceNotShared)

	var s corev1.Secret
	_ = e.c.Get(context.Background(), types.NamespacedName{Namespace: "pki", Name: "root-ca"}, &s)
	s.Annotations = map[string]string{annotations.ShareCertificatesWith: testNS}
	if err := e.c.Update(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	e.reconcile(testNS, "trust")
	requireEvents(t, e.events(), "Normal "+ReasonCAInjected)
	got := e.object(testNS, "trust")
	data, _, _ := unstructured.NestedStringMap(got.Object, "data")
	if data["other"] != "keep" || !strings.Contains(data["ca.crt"], "BEGIN CERTIFICATE") {
		t.Fatalf("data %v", data)
	}
	_ = base64.StdEncoding
}

// inject-ca-from-configmap reads a ConfigMap's key, binaryData included.
func TestInjectFromConfigMap(t *testing.T) {
	ca := newCA(t, "corp")
	src := &corev1.ConfigMap{ObjectMeta: objectMeta("bundle", nil), BinaryData: map[string][]byte{"ca-bundle.crt": ca.pem}}
	src.Namespace = "pki"
	e := newInjectEnv(t, validatingWebhooks, src, webhookConfig("hooks", map[string]string{annotations.InjectCAFromConfigMap: "pki/bundle/ca-bundle.crt"}, "a"))
	e.reconcile("", "hooks")
	requireEvents(t, e.events(), "Normal "+ReasonCAInjected)
	if got := bundleNames(t, e.object("", "hooks"), validatingWebhooks, ""); strings.Join(got, "|") != "corp Root CA" {
		t.Fatalf("bundles %q", got)
	}
}
