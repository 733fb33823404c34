package controllers

// Shared helpers of the controllers tests: PEM fixtures, Secret and
// ConfigMap builders, a fake-client test environment that records writes
// and events, and store readers.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"slices"
	"strings"
	"sync"
	"testing"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/keystore"
	"github.com/certinel/certinel/pkg/testpki"
)

// testNS is the namespace of the fake-client tests.
const testNS = "apps"

// PEM fixtures, made with testpki. Every fixture gets fresh ECDSA keys, so
// no two fixtures share a key.

// testTLS is a cert-manager style key pair: tls.crt (leaf), tls.key
// (SEC1), ca.crt (the root that signed the leaf).
type testTLS struct {
	cert, key, ca []byte
	leaf, root    *x509.Certificate
	leafKey       crypto.Signer
}

// testCA is a self-signed CA certificate, as a truststore source holds it.
type testCA struct {
	pem  []byte
	cert *x509.Certificate
}

// newRoot issues a self-signed CA whose common name is name + " Root CA".
func newRoot(tb testing.TB, name string) *testpki.Cert {
	tb.Helper()
	return testpki.Issue(tb, testpki.Template{
		CommonName: name + " Root CA", IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		Key:      testpki.NewKey(tb, testpki.ECDSA),
	}, nil)
}

// newCA issues a self-signed CA whose common name is name + " Root CA".
func newCA(tb testing.TB, name string) *testCA {
	tb.Helper()
	root := newRoot(tb, name)
	return &testCA{pem: root.PEM(), cert: root.Cert}
}

// newTLS issues a root CA and a leaf for name.example.com.
func newTLS(tb testing.TB, name string) *testTLS {
	tb.Helper()
	root := newRoot(tb, name)
	leaf := testpki.Issue(tb, testpki.Template{
		CommonName:  name + ".example.com",
		DNSNames:    []string{name + ".example.com"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		Key:         testpki.NewKey(tb, testpki.ECDSA),
	}, root)
	return &testTLS{
		cert:    leaf.PEM(),
		key:     testpki.KeyPEM(tb, leaf.Key),
		ca:      root.PEM(),
		leaf:    leaf.Cert,
		root:    root.Cert,
		leafKey: leaf.Key,
	}
}

// encryptedKey is the key of tls encrypted the legacy OpenSSL way
// (Proc-Type and DEK-Info headers).
func (tls *testTLS) encryptedKey(tb testing.TB) []byte {
	tb.Helper()
	return testpki.LegacyEncryptedPEM(tb, tls.leafKey, "secret")
}

// Object builders.

func objectMeta(name string, ann map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: testNS, UID: types.UID("uid-" + name), Annotations: ann}
}

// tlsSecret is a kubernetes.io/tls Secret holding tls.
func tlsSecret(name string, tls *testTLS, ann map[string]string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: objectMeta(name, ann),
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			annotations.TLSCertKey: tls.cert,
			annotations.TLSKeyKey:  tls.key,
			annotations.CACertKey:  tls.ca,
		},
	}
}

// opaqueSecret is an Opaque Secret without annotations, such as a password Secret.
func opaqueSecret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: objectMeta(name, nil), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func configMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: objectMeta(name, nil), Data: data}
}

// inNamespace moves obj to namespace ns.
func inNamespace[T client.Object](ns string, obj T) T {
	obj.SetNamespace(ns)
	return obj
}

// ownedTarget is a Secret certinel created for owner's outputs.
func ownedTarget(name string, owner *corev1.Secret) *corev1.Secret {
	t := newTarget(owner, name)
	t.UID = types.UID("uid-" + name)
	return t
}

// newFakeClient is a fake client with the keystore controller's indexes.
func newFakeClient(funcs interceptor.Funcs, objs ...client.Object) client.WithWatch {
	return fake.NewClientBuilder().
		WithObjects(objs...).
		WithIndex(&corev1.Secret{}, referenceIndex, indexReferences).
		WithIndex(&corev1.Secret{}, ownerIndex, indexOwner).
		WithInterceptorFuncs(funcs).
		Build()
}

// testEnv is a KeystoreReconciler on a fake client that records every
// write ("create NAME", "patch NAME", "delete NAME") in order, and the
// Events it emits ("Type Reason message").
type testEnv struct {
	t   *testing.T
	c   client.WithWatch
	rec *events.FakeRecorder
	r   *KeystoreReconciler

	mu     sync.Mutex
	writes []string
}

func newTestEnv(t *testing.T, objs ...client.Object) *testEnv {
	t.Helper()
	e := &testEnv{t: t, rec: events.NewFakeRecorder(100)}
	e.c = newFakeClient(e.recordingFuncs(), objs...)
	e.r = &KeystoreReconciler{Client: e.c, Live: e.c, Recorder: e.rec}
	return e
}

// recordingFuncs record writes; Create gives new objects a UID, as the API
// server does (the fake client does not).
func (e *testEnv) recordingFuncs() interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			e.record("create", obj)
			if obj.GetUID() == "" {
				obj.SetUID(types.UID("uid-" + obj.GetName()))
			}
			return c.Create(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			e.record("patch", obj)
			return c.Patch(ctx, obj, patch, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			e.record("update", obj)
			return c.Update(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			e.record("delete", obj)
			return c.Delete(ctx, obj, opts...)
		},
	}
}

func (e *testEnv) record(verb string, obj client.Object) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.writes = append(e.writes, verb+" "+obj.GetName())
}

// takeWrites returns the writes since the last call.
func (e *testEnv) takeWrites() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.writes
	e.writes = nil
	return w
}

// takeEvents returns the Events since the last call.
func (e *testEnv) takeEvents() []string { return drainEvents(e.rec) }

// drainEvents returns the Events rec holds and empties it.
func drainEvents(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case ev := <-rec.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// reconcile reconciles Secret name of testNS and fails on an error.
func (e *testEnv) reconcile(name string) {
	e.t.Helper()
	res, err := e.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: testNS, Name: name}})
	if err != nil {
		e.t.Fatalf("reconcile %s: %v", name, err)
	}
	if res != (reconcile.Result{}) {
		e.t.Fatalf("reconcile %s: result %+v, want none", name, res)
	}
}

func (e *testEnv) secret(name string) *corev1.Secret {
	e.t.Helper()
	var s corev1.Secret
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: testNS, Name: name}, &s); err != nil {
		e.t.Fatalf("get Secret %s: %v", name, err)
	}
	return &s
}

func (e *testEnv) exists(name string) bool {
	e.t.Helper()
	var s corev1.Secret
	err := e.c.Get(context.Background(), types.NamespacedName{Namespace: testNS, Name: name}, &s)
	if err != nil && !apierrors.IsNotFound(err) {
		e.t.Fatal(err)
	}
	return err == nil
}

// update changes Secret name with mutate, as a user would.
func (e *testEnv) update(name string, mutate func(s *corev1.Secret)) {
	e.t.Helper()
	s := e.secret(name)
	mutate(s)
	if err := e.c.Update(context.Background(), s); err != nil {
		e.t.Fatalf("update Secret %s: %v", name, err)
	}
	e.takeWrites() // the test's own write
}

// Assertions and store readers.

func dataKeys(s *corev1.Secret) []string {
	keys := make([]string, 0, len(s.Data))
	for k := range s.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func requireKeys(t *testing.T, s *corev1.Secret, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := dataKeys(s); !slices.Equal(got, want) {
		t.Fatalf("Secret %s data keys = %v, want %v", s.Name, got, want)
	}
}

// requireEvents checks the Events, in order, by prefix ("Type Reason").
func requireEvents(t *testing.T, got []string, wantPrefixes ...string) {
	t.Helper()
	if len(got) != len(wantPrefixes) {
		t.Fatalf("events = %q, want %d starting with %q", got, len(wantPrefixes), wantPrefixes)
	}
	for i, p := range wantPrefixes {
		if !strings.HasPrefix(got[i], p+" ") {
			t.Fatalf("event %d = %q, want prefix %q (all: %q)", i, got[i], p, got)
		}
	}
}

func loadJKS(t *testing.T, data []byte, password string) jks.KeyStore {
	t.Helper()
	ks := jks.New()
	if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
		t.Fatalf("load JKS with password %q: %v", password, err)
	}
	return ks
}

// requireKeystoreJKS checks that data is a JKS keystore, opened with
// password, with one PrivateKeyEntry alias whose chain starts with leaf.
func requireKeystoreJKS(t *testing.T, data []byte, password, alias string, leaf *x509.Certificate) {
	t.Helper()
	ks := loadJKS(t, data, password)
	if got := ks.Aliases(); !slices.Equal(got, []string{alias}) {
		t.Fatalf("keystore aliases = %v, want [%s]", got, alias)
	}
	entry, err := ks.GetPrivateKeyEntry(alias, []byte(password))
	if err != nil {
		t.Fatalf("keystore entry %s: %v", alias, err)
	}
	if len(entry.CertificateChain) == 0 || !bytes.Equal(entry.CertificateChain[0].Content, leaf.Raw) {
		t.Fatalf("keystore chain does not start with %s", leaf.Subject)
	}
}

// trustAliases are the aliases certinel gives certs in a truststore, sorted.
func trustAliases(certs ...*x509.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = keystore.TrustAlias(c)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// requireTruststoreJKS checks that data is a JKS truststore holding exactly certs.
func requireTruststoreJKS(t *testing.T, data []byte, password string, certs ...*x509.Certificate) {
	t.Helper()
	ts := loadJKS(t, data, password)
	got := ts.Aliases()
	slices.Sort(got)
	if want := trustAliases(certs...); !slices.Equal(got, want) {
		t.Fatalf("truststore aliases = %v, want %v", got, want)
	}
	for _, c := range certs {
		e, err := ts.GetTrustedCertificateEntry(keystore.TrustAlias(c))
		if err != nil || !bytes.Equal(e.Certificate.Content, c.Raw) {
			t.Fatalf("truststore entry for %s: %v (or other content)", c.Subject, err)
		}
	}
}

// invalidInputCount reads certinel_invalid_input_total of the keystore
// controller for reason.
func invalidInputCount(t *testing.T, reason string) float64 {
	t.Helper()
	v, _ := registryValue(t, "certinel_invalid_input_total", map[string]string{"controller": keystoreController, "reason": reason})
	return v
}

// registryValue reads the sample of a gauge or counter whose labels include
// want from controller-runtime's metrics registry, as /metrics serves it;
// ok is false when there is none.
func registryValue(t *testing.T, name string, want map[string]string) (v float64, ok bool) {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			match := true
			for k, w := range want {
				match = match && labels[k] == w
			}
			if !match {
				continue
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// loadJKSStore opens a JKS store with password.
func loadJKSStore(data []byte, password string) (jks.KeyStore, error) {
	ks := jks.New()
	err := ks.Load(bytes.NewReader(data), []byte(password))
	return ks, err
}

// loadJKSErr is the error of opening a JKS store with password.
func loadJKSErr(data []byte, password string) error {
	_, err := loadJKSStore(data, password)
	return err
}

// list returns every Secret and ConfigMap of the fake client, for
// before/after comparisons.
func (e *testEnv) list() []client.Object {
	e.t.Helper()
	var secrets corev1.SecretList
	var cms corev1.ConfigMapList
	if err := e.c.List(context.Background(), &secrets); err != nil {
		e.t.Fatal(err)
	}
	if err := e.c.List(context.Background(), &cms); err != nil {
		e.t.Fatal(err)
	}
	var out []client.Object
	for i := range secrets.Items {
		out = append(out, &secrets.Items[i])
	}
	for i := range cms.Items {
		out = append(out, &cms.Items[i])
	}
	return out
}
