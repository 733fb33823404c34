package controllers

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/testpki"
)

const day = 24 * time.Hour

// expiryEnv is an ExpiryReconciler on a fake client whose objects went
// through the cache transform, as in the manager, with a fake clock.
type expiryEnv struct {
	t     *testing.T
	c     client.WithWatch
	clock *clocktesting.FakeClock
	rec   *events.FakeRecorder
	r     *ExpiryReconciler
}

func newExpiryEnv(t *testing.T, now time.Time, objs ...client.Object) *expiryEnv {
	e := &expiryEnv{t: t, clock: clocktesting.NewFakeClock(now), rec: events.NewFakeRecorder(100)}
	b := fake.NewClientBuilder()
	for _, o := range objs {
		if _, err := TrimForCache(o); err != nil {
			t.Fatal(err)
		}
		b = b.WithObjects(o)
	}
	e.c = b.Build()
	e.r = &ExpiryReconciler{Client: e.c, Recorder: e.rec, Clock: e.clock, Warning: 30 * day}
	return e
}

func (e *expiryEnv) reconcile(name string) time.Duration {
	e.t.Helper()
	res, err := e.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: testNS, Name: name}})
	if err != nil {
		e.t.Fatalf("reconcile %s: %v", name, err)
	}
	return res.RequeueAfter
}

// replace stores obj as the cache would see it after an update.
func (e *expiryEnv) replace(obj *corev1.Secret) {
	e.t.Helper()
	_, _ = TrimForCache(obj)
	var cur corev1.Secret
	if err := e.c.Get(context.Background(), client.ObjectKeyFromObject(obj), &cur); err != nil {
		e.t.Fatal(err)
	}
	obj.ResourceVersion = cur.ResourceVersion
	if err := e.c.Update(context.Background(), obj); err != nil {
		e.t.Fatal(err)
	}
}

// series reads a certificate series of a Secret of testNS.
func series(t *testing.T, name, secret, key string) (float64, bool) {
	t.Helper()
	return registryValue(t, name, map[string]string{"namespace": testNS, "secret": secret, "key": key})
}

// leafFor is a TLS Secret whose leaf is valid from nb to na; its CA is valid
// for ten years.
func leafFor(t *testing.T, name string, nb, na time.Time, ann map[string]string) *corev1.Secret {
	root := testpki.Issue(t, testpki.Template{CommonName: name + " CA", IsCA: true, NotAfter: nb.Add(3650 * day), Key: testpki.NewKey(t, testpki.ECDSA)}, nil)
	leaf := testpki.Issue(t, testpki.Template{CommonName: name, NotBefore: nb, NotAfter: na, Key: testpki.NewKey(t, testpki.ECDSA)}, root)
	return &corev1.Secret{
		ObjectMeta: objectMeta(name, ann),
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			annotations.TLSCertKey: leaf.PEM(), annotations.TLSKeyKey: testpki.KeyPEM(t, leaf.Key), annotations.CACertKey: root.PEM(),
		},
	}
}

func TestExpiryLifecycle(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	s := leafFor(t, "web", now.Add(-day), now.Add(90*day), nil)
	e := newExpiryEnv(t, now, s)
	wake := e.reconcile("web")
	if v, ok := series(t, "certinel_certificate_not_after_timestamp_seconds", "web", "tls.crt"); !ok || v != float64(now.Add(90*day).Unix()) {
		t.Fatalf("not_after of tls.crt = %v, %v", v, ok)
	}
	if v, ok := series(t, "certinel_certificate_not_before_timestamp_seconds", "web", "tls.crt"); !ok || v != float64(now.Add(-day).Unix()) {
		t.Fatalf("not_before of tls.crt = %v, %v", v, ok)
	}
	if _, ok := series(t, "certinel_certificate_not_after_timestamp_seconds", "web", "ca.crt"); !ok {
		t.Fatal("no series for ca.crt")
	}
	if ev := drainEvents(e.rec); len(ev) != 0 || wake != 60*day {
		t.Fatalf("90 days left: events %v, wake in %v; want none, 60d", ev, wake)
	}

	// The threshold is crossed: one warning, then silence for a day.
	e.clock.Step(60 * day)
	if wake = e.reconcile("web"); wake != day {
		t.Fatalf("wake in %v after warning, want a day", wake)
	}
	requireEvents(t, drainEvents(e.rec), "Warning CertificateExpiringSoon")
	e.clock.Step(time.Hour)
	e.reconcile("web")
	if ev := drainEvents(e.rec); len(ev) != 0 {
		t.Fatalf("warned again within a day: %v", ev)
	}
	e.clock.Step(23 * time.Hour)
	e.reconcile("web")
	requireEvents(t, drainEvents(e.rec), "Warning CertificateExpiringSoon")

	// Expired: told once; the next thing to wait for is the CA's threshold.
	e.clock.Step(30 * day)
	caThreshold := now.Add(-day).Add(3650 * day).Add(-30 * day)
	if wake = e.reconcile("web"); wake != caThreshold.Sub(e.clock.Now()) {
		t.Fatalf("wake in %v after expiry, want at the CA's threshold", wake)
	}
	requireEvents(t, drainEvents(e.rec), "Warning CertificateExpired")
	e.reconcile("web")
	if ev := drainEvents(e.rec); len(ev) != 0 {
		t.Fatalf("expired told twice: %v", ev)
	}

	// Renewed: the gauge follows, nothing is told.
	renewed := leafFor(t, "web", e.clock.Now(), e.clock.Now().Add(90*day), nil)
	e.replace(renewed)
	e.reconcile("web")
	if v, _ := series(t, "certinel_certificate_not_after_timestamp_seconds", "web", "tls.crt"); v != float64(e.clock.Now().Add(90*day).Unix()) {
		t.Fatalf("not_after after renewal = %v", v)
	}
	if ev := drainEvents(e.rec); len(ev) != 0 {
		t.Fatalf("events after renewal: %v", ev)
	}

	// Deleted: the series go.
	if err := e.c.Delete(context.Background(), renewed); err != nil {
		t.Fatal(err)
	}
	e.reconcile("web")
	for _, key := range []string{"tls.crt", "ca.crt"} {
		if _, ok := series(t, "certinel_certificate_not_after_timestamp_seconds", "web", key); ok {
			t.Errorf("series of %s still exported after the Secret was deleted", key)
		}
	}
}

func TestExpiryInputs(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	optOut := leafFor(t, "opted-out", now.Add(-day), now.Add(day), map[string]string{annotations.Monitor: "false"})
	badWarning := leafFor(t, "bad-warning", now.Add(-2*day), now.Add(-day), map[string]string{annotations.ExpiryWarning: "soon"})
	custom := leafFor(t, "custom", now.Add(-day), now.Add(10*day), map[string]string{annotations.ExpiryWarning: "7d"})
	garbage := &corev1.Secret{ObjectMeta: objectMeta("garbage", nil), Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{annotations.TLSCertKey: []byte("not a certificate"), annotations.TLSKeyKey: []byte("x")}}
	plain := &corev1.Secret{ObjectMeta: objectMeta("plain", nil), Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{annotations.TLSCertKey: leafFor(t, "p", now, now.Add(day), nil).Data[annotations.TLSCertKey]}}
	e := newExpiryEnv(t, now, optOut, badWarning, custom, garbage, plain)

	e.reconcile("opted-out")
	if _, ok := series(t, "certinel_certificate_not_after_timestamp_seconds", "opted-out", "tls.crt"); ok {
		t.Error("an opted-out Secret is exported")
	}
	e.reconcile("plain")
	if _, ok := series(t, "certinel_certificate_not_after_timestamp_seconds", "plain", "tls.crt"); ok {
		t.Error("an Opaque Secret without certinel annotations is exported")
	}
	if ev := drainEvents(e.rec); len(ev) != 0 {
		t.Fatalf("events for unmonitored Secrets: %v", ev)
	}

	// A bad threshold is a Warning, once per version; expiry is still told.
	e.reconcile("bad-warning")
	requireEvents(t, drainEvents(e.rec), "Warning InvalidAnnotation", "Warning CertificateExpired")
	e.reconcile("bad-warning")
	if ev := drainEvents(e.rec); len(ev) != 0 {
		t.Fatalf("bad input told twice for one version: %v", ev)
	}

	// 7d: ten days left is not yet worth a warning; wake when 7 are left.
	if wake := e.reconcile("custom"); wake != 3*day {
		t.Fatalf("custom threshold: wake in %v, want 3d", wake)
	}
	if ev := drainEvents(e.rec); len(ev) != 0 {
		t.Fatalf("custom threshold warned early: %v", ev)
	}

	// Unreadable: counted once per version, no date exported.
	e.reconcile("garbage")
	e.reconcile("garbage")
	if v, ok := series(t, "certinel_certificate_read_errors_total", "garbage", "tls.crt"); !ok || v != 1 {
		t.Fatalf("read errors = %v, %v; want 1", v, ok)
	}
	if _, ok := series(t, "certinel_certificate_not_after_timestamp_seconds", "garbage", "tls.crt"); ok {
		t.Error("an unreadable certificate exported a date")
	}
}

func TestExpiryRelevantUpdates(t *testing.T) {
	now := time.Now()
	old := leafFor(t, "s", now, now.Add(day), nil)
	_, _ = TrimForCache(old)
	keystoreWrite := old.DeepCopy()
	keystoreWrite.Annotations[annotations.KeystoresFingerprint] = "x"
	renewed := leafFor(t, "s", now, now.Add(2*day), nil)
	_, _ = TrimForCache(renewed)
	retuned := old.DeepCopy()
	retuned.Annotations[annotations.ExpiryWarning] = "3d"
	p := expiryRelevant()
	for name, tc := range map[string]struct {
		new  *corev1.Secret
		want bool
	}{
		"a keystore write": {keystoreWrite, false},
		"a renewal":        {renewed, true},
		"a new threshold":  {retuned, true},
	} {
		if got := p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: passes %v, want %v", name, got, tc.want)
		}
	}
	if !strings.Contains(old.Annotations[validityMark], "tls.crt=") {
		t.Fatalf("validity mark %q", old.Annotations[validityMark])
	}
}

// client-go may transform an object twice (streaming lists do): the second
// pass changes nothing, although the data is gone by then.
func TestCacheTransformTwice(t *testing.T) {
	now := time.Now()
	s := leafFor(t, "web", now, now.Add(day), nil)
	once, _ := TrimForCache(s)
	first := maps.Clone(once.(*corev1.Secret).Annotations)
	twice, _ := TrimForCache(once)
	if got := twice.(*corev1.Secret).Annotations; !maps.Equal(got, first) || !strings.Contains(got[validityMark], "tls.crt=") {
		t.Fatalf("second transform: %v, first: %v", got, first)
	}
}

// The cache-only keys a user writes on an object are not believed: no
// forged validity is exported, an opt-out stays an opt-out, and a forged
// trimmed mark or token changes nothing.
func TestCacheTransformDropsForgedMarks(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	forged := map[string]string{
		validityMark: "a=1:2,b=1:2,c=!", trimmedMark: "true", transformedMark: "guess",
		"internal.certinel.io/compat-added": "certinel.io/monitor",
	}
	opaque := &corev1.Secret{ObjectMeta: objectMeta("opaque", maps.Clone(forged)), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}}
	optOut := leafFor(t, "opted-out", now, now.Add(day), maps.Clone(forged))
	optOut.Annotations[annotations.Monitor] = "false"
	malformed := &corev1.Secret{ObjectMeta: objectMeta("malformed", map[string]string{validityMark: "garbage"}), Type: corev1.SecretTypeOpaque}
	e := newExpiryEnv(t, now, opaque, optOut, malformed)
	for _, name := range []string{"opaque", "opted-out", "malformed"} {
		e.reconcile(name)
		for _, key := range []string{"a", "b", "tls.crt"} {
			if _, ok := series(t, "certinel_certificate_not_after_timestamp_seconds", name, key); ok {
				t.Errorf("%s: series for key %s", name, key)
			}
		}
	}
	if ev := drainEvents(e.rec); len(ev) != 0 {
		t.Fatalf("Events from forged marks: %v", ev)
	}
	var got corev1.Secret
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: testNS, Name: "opaque"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Annotations[transformedMark] != cacheToken || len(got.Data) != 0 {
		t.Fatalf("opaque Secret as cached: %v, data %v", got.Annotations, got.Data)
	}
}
