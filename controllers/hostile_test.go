package controllers

// Fake-client tests of what a hostile tenant may try: reading another
// namespace, outputs that do not fit, writes the API server refuses, keys
// replaced under certinel, and inputs that are expensive to parse.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/testpki"
)

// manyCAs is n self-signed CA certificates, as PEM.
func manyCAs(t *testing.T, prefix string, n int) []byte {
	return testpki.CertsPEM(testpki.ManyCAs(t, n, testpki.Numbered(prefix))...)
}

// A user who cannot read namespace tenant-b learns nothing of it from the
// Events on their own Secret: a source that does not exist, one without
// the key, and one whose key holds no certificate give the same message.
func TestCrossNamespaceReadsRevealNothing(t *testing.T) {
	tls := newTLS(t, "app")
	db := inNamespace("tenant-b", opaqueSecret("db-creds", map[string]string{"password": "hunter2"}))
	var messages []string
	for _, ref := range []string{"secret:tenant-b/nonexistent/ca.crt", "secret:tenant-b/db-creds/nokey", "secret:tenant-b/db-creds/password"} {
		e := newTestEnv(t, db, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.TruststoreSources: ref}))
		e.reconcile(srcName)
		evs := e.takeEvents()
		requireEvents(t, evs, "Warning "+badinput.SourceNotShared)
		messages = append(messages, evs[0])
		if w := e.takeWrites(); len(w) != 0 {
			t.Errorf("%s: writes %q, want none", ref, w)
		}
		if strings.Contains(evs[0], "db-creds") || strings.Contains(evs[0], "nonexistent") {
			t.Errorf("the message names the source: %q", evs[0])
		}
	}
	if messages[0] != messages[1] || messages[1] != messages[2] {
		t.Fatalf("messages differ, so they tell what tenant-b holds:\n%s", strings.Join(messages, "\n"))
	}
}

// Consent on the source lets another namespace read its certificates, and
// withdrawing it stops the reads: the next reconcile warns and writes nothing.
func TestConsentGrantedThenWithdrawn(t *testing.T) {
	tls, ca := newTLS(t, "app"), newCA(t, "corp")
	src := inNamespace("tenant-b", opaqueSecret("corp-ca", map[string]string{"ca.crt": string(ca.pem)}))
	e := newTestEnv(t, src, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.TruststoreSources: "secret:tenant-b/corp-ca"}))
	e.reconcile(srcName)
	requireEvents(t, e.takeEvents(), "Warning "+badinput.SourceNotShared)

	for i, consent := range []map[string]string{
		{annotations.ShareCertificatesWith: testNS},
		{annotations.AllowExportTo: "*"},
	} {
		updateIn(t, e, "tenant-b", "corp-ca", func(s *corev1.Secret) { s.Annotations = consent })
		e.reconcile(srcName)
		requireEvents(t, e.takeEvents(), "Normal "+ReasonKeystoresUpdated)
		requireTruststoreJKS(t, e.secret(srcName).Data[annotations.TruststoreJKSKey], "changeit", tls.root, ca.cert)
		// Withdrawn, together with a new CA that would otherwise be read.
		next := newCA(t, fmt.Sprintf("next %d", i))
		updateIn(t, e, "tenant-b", "corp-ca", func(s *corev1.Secret) { s.Annotations = nil; s.Data["ca.crt"] = next.pem })
		ca = next
		e.takeWrites()
		e.reconcile(srcName)
		requireEvents(t, e.takeEvents(), "Warning "+badinput.SourceNotShared)
		if w := e.takeWrites(); len(w) != 0 {
			t.Fatalf("writes after consent was withdrawn: %q", w)
		}
	}
	if e.r.reader().size() != 0 {
		t.Error("what was read under consent is still kept after it was withdrawn")
	}
}

// updateIn changes a Secret of namespace ns, as its owner would.
func updateIn(t *testing.T, e *testEnv, ns, name string, mutate func(*corev1.Secret)) {
	t.Helper()
	var s corev1.Secret
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatal(err)
	}
	mutate(&s)
	if err := e.c.Update(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	e.takeWrites()
}

// Outputs that would not fit a Secret are refused before the write, with
// the sizes and the way out, once per change of the inputs.
func TestOutputTooLarge(t *testing.T) {
	tls := newTLS(t, "app")
	src := tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks,pkcs12", annotations.CertInfo: "true"})
	src.Data[annotations.CACertKey] = manyCAs(t, "bundle", 700)
	e := newTestEnv(t, src)
	before := invalidInputCount(t, badinput.OutputTooLarge)
	e.reconcile(srcName)
	evs := e.takeEvents()
	requireEvents(t, evs, "Warning "+badinput.OutputTooLarge)
	for _, want := range []string{"truststore.jks", "truststore.p12", "KiB", annotations.KeystoresTarget} {
		if !strings.Contains(evs[0], want) {
			t.Errorf("message %q does not name %q", evs[0], want)
		}
	}
	if w := e.takeWrites(); len(w) != 0 {
		t.Fatalf("writes %q, want none", w)
	}
	if got := invalidInputCount(t, badinput.OutputTooLarge) - before; got != 1 {
		t.Errorf("invalid input count grew by %v, want 1", got)
	}

	e.reconcile(srcName) // nothing changed: no work, no second Warning
	requireEvents(t, e.takeEvents())

	e.update(srcName, func(s *corev1.Secret) {
		s.Annotations[annotations.Keystores] = "jks"
		delete(s.Annotations, annotations.CertInfo)
	})
	e.reconcile(srcName)
	requireEvents(t, e.takeEvents(), "Normal "+ReasonKeystoresUpdated)
	requireKeys(t, e.secret(srcName), "tls.crt", "tls.key", "ca.crt", annotations.KeystoreJKSKey, annotations.TruststoreJKSKey)
}

// A write the API server refuses for good (422, 413) is bad input: a
// Warning and a count, no retry, and no write counted.
func TestRefusedWriteIsNotRetried(t *testing.T) {
	tls := newTLS(t, "app")
	for name, refusal := range map[string]struct {
		err    error
		reason string
	}{
		"invalid": {apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, srcName,
			field.ErrorList{field.TooLong(field.NewPath("data"), "", corev1.MaxSecretSize)}), badinput.WriteRejected},
		"too large": {apierrors.NewRequestEntityTooLargeError("limit is 3145728"), badinput.OutputTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			c := newFakeClient(interceptor.Funcs{
				Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
					return refusal.err
				},
			}, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"}))
			e := newTestEnv(t)
			e.c, e.r.Client = c, c
			patches := testutil.ToFloat64(writes.WithLabelValues(keystoreController, "patch"))
			failures := testutil.ToFloat64(writeFailures.WithLabelValues(keystoreController, "patch"))
			e.reconcile(srcName) // fails the test on a returned error, i.e. a retry
			requireEvents(t, e.takeEvents(), "Warning "+refusal.reason)
			if got := testutil.ToFloat64(writes.WithLabelValues(keystoreController, "patch")) - patches; got != 0 {
				t.Errorf("writes_total grew by %v for a refused write", got)
			}
			if got := testutil.ToFloat64(writeFailures.WithLabelValues(keystoreController, "patch")) - failures; got != 1 {
				t.Errorf("write_failures_total grew by %v, want 1", got)
			}
		})
	}
}

// A user who puts their own keystore.jks into the Secret in the same update
// that removes the annotation keeps it; certinel removes only what is still
// its own, and says which key it left.
func TestReplacedKeyIsLeftAndReleased(t *testing.T) {
	tls := newTLS(t, "app")
	e := newTestEnv(t, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"}))
	e.reconcile(srcName)
	e.takeEvents()
	e.update(srcName, func(s *corev1.Secret) {
		delete(s.Annotations, annotations.Keystores)
		s.Data[annotations.KeystoreJKSKey] = []byte("my own store")
	})
	e.reconcile(srcName)
	s := e.secret(srcName)
	requireKeys(t, s, "tls.crt", "tls.key", "ca.crt", annotations.KeystoreJKSKey)
	if string(s.Data[annotations.KeystoreJKSKey]) != "my own store" {
		t.Fatalf("the user's keystore.jks was changed")
	}
	if _, ok := s.Annotations[annotations.ManagedKeys]; ok {
		t.Errorf("managed-keys still lists %q", s.Annotations[annotations.ManagedKeys])
	}
	evs := e.takeEvents()
	requireEvents(t, evs, "Warning "+badinput.DataKeyReleased, "Normal "+ReasonKeystoresRemoved)
	if !strings.Contains(evs[0], annotations.KeystoreJKSKey) {
		t.Errorf("event %q does not name the key", evs[0])
	}

	// Asking for keystores again does not overwrite the user's store.
	e.update(srcName, func(s *corev1.Secret) { s.Annotations = map[string]string{annotations.Keystores: "jks"} })
	e.reconcile(srcName)
	requireEvents(t, e.takeEvents(), "Warning "+badinput.DataKeyConflict)
}

// Bounded CPU: a chain over the limit is refused without being worked on
// again while nothing changes, and a truststore is capped across sources.
func TestExpensiveInputsAreBounded(t *testing.T) {
	tls := newTLS(t, "app")
	t.Run("long chain", func(t *testing.T) {
		src := tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"})
		src.Data[annotations.TLSCertKey] = testpki.Join(tls.cert, manyCAs(t, "chain", 20))
		e := newTestEnv(t, src)
		e.reconcile(srcName)
		requireEvents(t, e.takeEvents(), "Warning "+badinput.ChainTooLong)
		e.reconcile(srcName)
		e.reconcile(srcName)
		requireEvents(t, e.takeEvents()) // the same bytes are not parsed again
		e.update(srcName, func(s *corev1.Secret) { s.Labels = map[string]string{"touched": "yes"} })
		e.reconcile(srcName)
		requireEvents(t, e.takeEvents(), "Warning "+badinput.ChainTooLong)
	})
	t.Run("sources over the truststore limit", func(t *testing.T) {
		a, b := manyCAs(t, "a", 600), manyCAs(t, "b", 600)
		e := newTestEnv(t, configMap("a", map[string]string{"ca.crt": string(a)}), configMap("b", map[string]string{"ca.crt": string(b)}),
			tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.TruststoreSources: "configmap:a,configmap:b"}))
		e.reconcile(srcName)
		requireEvents(t, e.takeEvents(), "Warning "+badinput.BundleTooLarge)
		if w := e.takeWrites(); len(w) != 0 {
			t.Fatalf("writes %q", w)
		}
	})
}

// Each source is fetched and parsed once per resourceVersion: a Secret
// reconciled again works from what was kept, which is only the certificates.
func TestSourcesParsedOncePerVersion(t *testing.T) {
	tls, ca := newTLS(t, "app"), newCA(t, "bundle")
	bundle := configMap("bundle", map[string]string{"ca.crt": string(ca.pem), "other": "x"})
	e := newTestEnv(t, trimmed(t, bundle),
		tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.TruststoreSources: "configmap:bundle"}))
	live := &countingReader{Reader: newFakeClient(interceptor.Funcs{}, bundle), gets: map[string]int{}}
	e.r.Live = live
	for range 3 {
		e.reconcile(srcName)
	}
	if got := live.gets["bundle"]; got != 1 {
		t.Fatalf("the source was fetched %d times, want 1", got)
	}
	e.r.Sources.mu.Lock()
	entry := e.r.Sources.entries[sourceKey{annotations.ConfigMapSource, client.ObjectKey{Namespace: testNS, Name: "bundle"}}]
	e.r.Sources.mu.Unlock()
	if entry == nil || len(entry.values) != 1 || len(entry.values["bundle:ca.crt"].certs) != 1 {
		t.Fatalf("kept %+v, want the one certificate of the bundle's ca.crt and nothing else", entry)
	}
}
