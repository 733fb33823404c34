package status

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/testpki"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func wrote(manager string, at time.Time) []metav1.ManagedFieldsEntry {
	return []metav1.ManagedFieldsEntry{
		{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, Time: &metav1.Time{Time: at.Add(-time.Hour)}},
		{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, Time: &metav1.Time{Time: at}},
	}
}

func warning(kind, ns, name, reason string, at time.Time) Event {
	return Event{Kind: kind, Namespace: ns, Name: name, Type: "Warning", Reason: reason, Note: reason + " note", Time: at, Controller: Controller}
}

func normal(kind, ns, name, reason string, at time.Time) Event {
	e := warning(kind, ns, name, reason, at)
	e.Type = "Normal"
	return e
}

// leafPEM is a certificate valid until notAfter.
func leafPEM(t *testing.T, notAfter time.Time) []byte {
	t.Helper()
	return testpki.Issue(t, testpki.Template{CommonName: "leaf", Key: testpki.Key(t, testpki.ECDSA, 1), NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter}, nil).PEM()
}

func TestRows(t *testing.T) {
	expiry := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	crt := leafPEM(t, expiry)
	written := map[string][]byte{"tls.crt": crt, "tls.key": []byte("k"), "keystore.jks": nil, "truststore.jks": nil}
	upToDateAnn := map[string]string{annotations.Keystores: "jks", annotations.ManagedKeys: "keystore.jks,truststore.jks", annotations.KeystoresFingerprint: "fp"}

	cases := map[string]struct {
		objs   []Object
		events []Event
		want   []Row // Features, State, Reason, LastWrite and NotAfter compared
	}{
		"keystores written, only Normal Events": {
			objs:   []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: upToDateAnn, Data: written, ManagedFields: wrote("certinel", t0)}},
			events: []Event{normal(KindSecret, "a", "s", "KeystoresUpdated", t0)},
			want:   []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry}},
		},
		"Warning newer than the last write is bad input": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: upToDateAnn, Data: written, ManagedFields: wrote("certinel", t0)}},
			events: []Event{
				normal(KindSecret, "a", "s", "KeystoresUpdated", t0),
				warning(KindSecret, "a", "s", "KeyCertificateMismatch", t0.Add(time.Minute)),
			},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: BadInput, Reason: "KeyCertificateMismatch", LastWrite: &t0, NotAfter: &expiry}},
		},
		"Warning older than the last write is history": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: upToDateAnn, Data: written, ManagedFields: wrote("certinel", t0)}},
			events: []Event{
				warning(KindSecret, "a", "s", "KeyCertificateMismatch", t0.Add(-time.Minute)),
			},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry}},
		},
		"a Normal Event after the Warning clears it": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: upToDateAnn, Data: written, ManagedFields: wrote("certinel", t0)}},
			events: []Event{
				normal(KindSecret, "a", "s", "KeystoresUpdated", t0.Add(2*time.Minute)),
				warning(KindSecret, "a", "s", "KeyCertificateMismatch", t0.Add(time.Minute)),
			},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry}},
		},
		"Events of other controllers and of a recreated object do not count": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", UID: "new", Annotations: upToDateAnn, Data: written, ManagedFields: wrote("certinel", t0)}},
			events: []Event{
				func() Event {
					e := warning(KindSecret, "a", "s", "Other", t0.Add(time.Minute))
					e.Controller = "cert-manager"
					return e
				}(),
				func() Event {
					e := warning(KindSecret, "a", "s", "MalformedPEM", t0.Add(time.Minute))
					e.UID = "old"
					return e
				}(),
				warning(KindConfigMap, "a", "s", "MalformedPEM", t0.Add(time.Minute)),
				warning(KindSecret, "b", "s", "MalformedPEM", t0.Add(time.Minute)),
			},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry}},
		},
		"a Warning that came with the write is shown beside up to date": {
			objs:   []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: upToDateAnn, Data: written, ManagedFields: wrote("certinel", t0)}},
			events: []Event{warning(KindSecret, "a", "s", "PlaintextPassword", t0.Add(time.Second))},
			want:   []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: UpToDate, Reason: "PlaintextPassword", LastWrite: &t0, NotAfter: &expiry}},
		},
		"keystores asked, nothing written, no Event: pending": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: map[string]string{annotations.Keystores: "jks,pkcs12"}, Data: map[string][]byte{"tls.crt": crt}}},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: Pending, NotAfter: &expiry}},
		},
		"a format added since the last write: pending": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: map[string]string{
				annotations.Keystores: "jks,pkcs12", annotations.ManagedKeys: "keystore.jks,truststore.jks", annotations.KeystoresFingerprint: "fp"},
				Data: written, ManagedFields: wrote("certinel", t0)}},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: Pending, LastWrite: &t0, NotAfter: &expiry}},
		},
		"a Warning makes a Secret never written bad input": {
			objs:   []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: map[string]string{annotations.Keystores: "jks"}, Data: map[string][]byte{"tls.crt": []byte("junk")}}},
			events: []Event{warning(KindSecret, "a", "s", "MalformedPEM", t0)},
			want:   []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: BadInput, Reason: "MalformedPEM"}},
		},
		"annotations that do not parse are bad input without an Event": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: map[string]string{annotations.Keystores: "pem"}, Data: map[string][]byte{"tls.crt": crt}}},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureKeystores}, State: BadInput, Reason: "UnknownKeystoreFormat", NotAfter: &expiry}},
		},
		"cert-info only": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: map[string]string{annotations.CertInfo: "true", annotations.ManagedKeys: "tls.crt.info"},
				Data: map[string][]byte{"tls.crt": crt, "tls.crt.info": nil}, ManagedFields: wrote("certinel", t0)}},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureCertInfo}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry}},
		},
		"cert-info with an empty ca.crt writes no ca.crt.info": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: map[string]string{annotations.CertInfo: "true", annotations.ManagedKeys: "tls.crt.info"},
				Data: map[string][]byte{"tls.crt": crt, "ca.crt": {}, "tls.crt.info": nil}, ManagedFields: wrote("certinel", t0)}},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureCertInfo}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry}},
		},
		"cert-info with a CA waits for ca.crt.info": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: map[string]string{annotations.CertInfo: "true", annotations.ManagedKeys: "tls.crt.info"},
				Data: map[string][]byte{"tls.crt": crt, "ca.crt": crt, "tls.crt.info": nil}, ManagedFields: wrote("certinel", t0)}},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "s", Features: []string{FeatureCertInfo}, State: Pending, LastWrite: &t0, NotAfter: &expiry}},
		},
		"keystores-target: the outputs and the last write are the target's": {
			objs: []Object{
				{Kind: KindSecret, Namespace: "a", Name: "src", Annotations: map[string]string{annotations.Keystores: "jks", annotations.KeystoresTarget: "out"}, Data: map[string][]byte{"tls.crt": crt}},
				{Kind: KindSecret, Namespace: "a", Name: "out", Controller: "Secret/src", Annotations: map[string]string{annotations.ManagedKeys: "keystore.jks,truststore.jks", annotations.KeystoresFingerprint: "fp"},
					Data: map[string][]byte{"keystore.jks": nil, "truststore.jks": nil}, ManagedFields: wrote("certinel", t0)},
			},
			want: []Row{
				{Namespace: "a", Kind: KindSecret, Name: "out", Features: []string{FeatureKeystoresTarget}, State: UpToDate, LastWrite: &t0},
				{Namespace: "a", Kind: KindSecret, Name: "src", Features: []string{FeatureKeystores}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry},
			},
		},
		"keystores-target not made yet": {
			objs: []Object{{Kind: KindSecret, Namespace: "a", Name: "src", Annotations: map[string]string{annotations.Keystores: "jks", annotations.KeystoresTarget: "out"}}},
			want: []Row{{Namespace: "a", Kind: KindSecret, Name: "src", Features: []string{FeatureKeystores}, State: Pending}},
		},
		"objects that ask for nothing, consent and other managers are left out": {
			objs: []Object{
				{Kind: KindSecret, Namespace: "a", Name: "plain", Data: map[string][]byte{"tls.crt": crt}},
				{Kind: KindSecret, Namespace: "a", Name: "ca", Annotations: map[string]string{annotations.ShareCertificatesWith: "*"}},
				{Kind: KindConfigMap, Namespace: "a", Name: "cm", Annotations: map[string]string{"other.io/x": "y"}, ManagedFields: wrote("certinel", t0)},
				{Kind: KindDeployment, Namespace: "a", Name: "d", Annotations: map[string]string{annotations.ReloadIgnore: "true"}},
				{Kind: KindSecret, Namespace: "a", Name: "owned", Controller: "Secret/other", Annotations: map[string]string{"x": "y"}},
			},
		},
		"CA injection into a ConfigMap": {
			objs: []Object{
				{Kind: KindConfigMap, Namespace: "a", Name: "done", Annotations: map[string]string{annotations.InjectCAFrom: "pki/ca", annotations.InjectedCAs: "abc"},
					Data: map[string][]byte{"ca.crt": crt}, ManagedFields: wrote("certinel", t0)},
				{Kind: KindConfigMap, Namespace: "a", Name: "waiting", Annotations: map[string]string{annotations.InjectCAFrom: "pki/ca", annotations.InjectCAKey: "bundle.pem"}},
				{Kind: KindConfigMap, Namespace: "a", Name: "bad", Annotations: map[string]string{annotations.InjectCAFrom: "a/b/c/d"}},
			},
			want: []Row{
				{Namespace: "a", Kind: KindConfigMap, Name: "bad", Features: []string{FeatureInjectCA}, State: BadInput, Reason: "InvalidAnnotation"},
				{Namespace: "a", Kind: KindConfigMap, Name: "done", Features: []string{FeatureInjectCA}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry},
				{Namespace: "a", Kind: KindConfigMap, Name: "waiting", Features: []string{FeatureInjectCA}, State: Pending},
			},
		},
		"injection and truststores on one ConfigMap; a missing store is pending": {
			objs: []Object{{Kind: KindConfigMap, Namespace: "a", Name: "trust", Annotations: map[string]string{
				annotations.InjectCAFrom: "pki/ca", annotations.InjectedCAs: "abc", annotations.Truststores: "jks,pkcs12", annotations.TruststoresFingerprint: "fp"},
				Data: map[string][]byte{"ca.crt": crt, "truststore.jks": nil}, ManagedFields: wrote("certinel", t0)}},
			want: []Row{{Namespace: "a", Kind: KindConfigMap, Name: "trust", Features: []string{FeatureInjectCA, FeatureTruststores}, State: Pending, LastWrite: &t0, NotAfter: &expiry}},
		},
		"cluster-scoped injection targets": {
			objs: []Object{
				{Kind: KindValidatingWebhookConfiguration, Name: "hook", Annotations: map[string]string{annotations.InjectCAFrom: "pki/ca", annotations.InjectedCAs: "abc"},
					Data: map[string][]byte{CABundleKey: crt}, ManagedFields: wrote("certinel", t0)},
				{Kind: KindCustomResourceDefinition, Name: "widgets.example.com", Annotations: map[string]string{annotations.InjectCAFrom: "ca"}},
				{Kind: KindAPIService, Name: "v1.example.com", Annotations: map[string]string{annotations.InjectCAFromConfigMap: "pki/ca"}},
			},
			events: []Event{warning(KindAPIService, "", "v1.example.com", "TargetNotInjectable", t0)},
			want: []Row{
				{Kind: KindAPIService, Name: "v1.example.com", Features: []string{FeatureInjectCA}, State: BadInput, Reason: "TargetNotInjectable"},
				{Kind: KindCustomResourceDefinition, Name: "widgets.example.com", Features: []string{FeatureInjectCA}, State: BadInput, Reason: "InvalidAnnotation"},
				{Kind: KindValidatingWebhookConfiguration, Name: "hook", Features: []string{FeatureInjectCA}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry},
			},
		},
		"Routes": {
			objs: []Object{
				{Kind: KindRoute, Namespace: "a", Name: "done", Annotations: map[string]string{annotations.CertsFromSecret: "tls", annotations.ManagedFields: "tls.certificate,tls.key"},
					Data: map[string][]byte{RouteCertificateKey: crt}, ManagedFields: wrote("certinel", t0)},
				{Kind: KindRoute, Namespace: "a", Name: "missing", Annotations: map[string]string{annotations.CertsFromSecret: "nope"}},
				{Kind: KindRoute, Namespace: "a", Name: "mismatch", Annotations: map[string]string{annotations.CertsFromSecret: "tls", annotations.ManagedFields: "tls.certificate"},
					Data: map[string][]byte{RouteCertificateKey: crt}, ManagedFields: wrote("certinel", t0)},
			},
			events: []Event{
				warning(KindRoute, "a", "missing", "MissingSecret", t0),
				warning(KindRoute, "a", "mismatch", "CertificateHostMismatch", t0.Add(time.Second)),
			},
			want: []Row{
				{Namespace: "a", Kind: KindRoute, Name: "done", Features: []string{FeatureRoute}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry},
				{Namespace: "a", Kind: KindRoute, Name: "mismatch", Features: []string{FeatureRoute}, State: UpToDate, Reason: "CertificateHostMismatch", LastWrite: &t0, NotAfter: &expiry},
				{Namespace: "a", Kind: KindRoute, Name: "missing", Features: []string{FeatureRoute}, State: BadInput, Reason: "MissingSecret"},
			},
		},
		"Ingress with a mirror, and one waiting": {
			objs: []Object{
				{Kind: KindIngress, Namespace: "web", Name: "shop", Annotations: map[string]string{annotations.CertsFromSecret: "pki/wild", annotations.ManagedFields: "tls:shop-certinel-pki-wild"},
					ManagedFields: wrote("certinel", t0)},
				{Kind: KindSecret, Namespace: "web", Name: "shop-certinel-pki-wild", Controller: "Ingress/shop",
					Annotations: map[string]string{annotations.MirrorOf: "pki/wild", annotations.MirrorFingerprint: "fp"}, Data: map[string][]byte{"tls.crt": crt}, ManagedFields: wrote("certinel", t0)},
				{Kind: KindIngress, Namespace: "web", Name: "wait", Annotations: map[string]string{annotations.CertsFromSecret: "local"}},
				{Kind: KindSecret, Namespace: "web", Name: "local", Data: map[string][]byte{"tls.crt": crt}},
			},
			want: []Row{
				{Namespace: "web", Kind: KindIngress, Name: "shop", Features: []string{FeatureIngress}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry},
				{Namespace: "web", Kind: KindIngress, Name: "wait", Features: []string{FeatureIngress}, State: Pending, NotAfter: &expiry},
				{Namespace: "web", Kind: KindSecret, Name: "shop-certinel-pki-wild", Features: []string{FeatureIngressMirror}, State: UpToDate, LastWrite: &t0, NotAfter: &expiry},
			},
		},
		"workloads": {
			objs: []Object{
				{Kind: KindDeployment, Namespace: "a", Name: "web", Annotations: map[string]string{annotations.ReloadSecrets: "tls", annotations.ConfigHash: strings.Repeat("ab", 32)}, ManagedFields: wrote("certinel", t0)},
				{Kind: KindStatefulSet, Namespace: "a", Name: "db", Annotations: map[string]string{annotations.Reload: "auto"}},
				{Kind: KindDaemonSet, Namespace: "a", Name: "agent", Annotations: map[string]string{annotations.Reload: "always"}},
			},
			want: []Row{
				{Namespace: "a", Kind: KindDaemonSet, Name: "agent", Features: []string{FeatureReload}, State: BadInput, Reason: "InvalidAnnotation"},
				{Namespace: "a", Kind: KindDeployment, Name: "web", Features: []string{FeatureReload}, State: UpToDate, LastWrite: &t0},
				{Namespace: "a", Kind: KindStatefulSet, Name: "db", Features: []string{FeatureReload}, State: Pending},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Rows(tc.objs, tc.events)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d rows, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Namespace != w.Namespace || g.Kind != w.Kind || g.Name != w.Name || !slices.Equal(g.Features, w.Features) ||
					g.State != w.State || g.Reason != w.Reason || !sameTime(g.LastWrite, w.LastWrite) || !sameTime(g.NotAfter, w.NotAfter) {
					t.Errorf("row %d:\n got %s\nwant %s", i, show(g), show(w))
				}
				if (g.State == BadInput || g.State == Pending) && g.Message == "" {
					t.Errorf("row %d (%s): no message", i, g.State)
				}
			}
		})
	}
}

func sameTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}

func show(r Row) string {
	return strings.Join([]string{r.Namespace, r.Kind, r.Name, strings.Join(r.Features, ","), FormatState(r),
		FormatExpiry(r.NotAfter, t0), FormatLastWrite(r.LastWrite, t0), r.Message}, " | ")
}

func TestLastWrite(t *testing.T) {
	later := t0.Add(time.Hour)
	fields := []metav1.ManagedFieldsEntry{
		{Manager: "certinel", Operation: metav1.ManagedFieldsOperationApply, Time: &metav1.Time{Time: t0}},
		{Manager: "certinel", Operation: metav1.ManagedFieldsOperationUpdate, Time: &metav1.Time{Time: later}},
		{Manager: "certinel-other", Operation: metav1.ManagedFieldsOperationUpdate, Time: &metav1.Time{Time: later.Add(time.Hour)}},
		{Manager: "certinel", Operation: metav1.ManagedFieldsOperationUpdate},
	}
	if got, ok := LastWrite(fields); !ok || !got.Equal(later) {
		t.Errorf("LastWrite = %v, %v; want %v", got, ok, later)
	}
	if _, ok := LastWrite(fields[2:]); ok {
		t.Error("LastWrite found a write of another manager")
	}
}

func TestFormat(t *testing.T) {
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	for _, tc := range []struct{ got, want string }{
		{FormatExpiry(nil, t0), "-"},
		{FormatExpiry(at(-time.Second), t0), "expired"},
		{FormatExpiry(at(89*24*time.Hour+time.Hour), t0), "2027-02-28 (89d)"},
		{FormatExpiry(at(5*time.Hour+time.Minute), t0), "2026-12-01 (5h)"},
		{FormatLastWrite(nil, t0), "never"},
		{FormatLastWrite(at(-42*time.Second), t0), "42s ago"},
		{FormatLastWrite(at(time.Second), t0), "0s ago"},
		{FormatLastWrite(at(-3*time.Minute), t0), "3m ago"},
		{FormatLastWrite(at(-30*time.Hour), t0), "30h ago"},
		{FormatLastWrite(at(-72*time.Hour), t0), "3d ago"},
		{FormatState(Row{State: BadInput, Reason: "MalformedPEM"}), "bad input (MalformedPEM)"},
		{FormatState(Row{State: UpToDate, Reason: "CertificateHostMismatch"}), "up to date (warning: CertificateHostMismatch)"},
		{FormatState(Row{State: Pending}), "pending"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestNotAfter(t *testing.T) {
	expiry := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	crt := leafPEM(t, expiry)
	key := []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	for name, tc := range map[string]struct {
		data []byte
		want *time.Time
	}{
		"certificate":         {crt, &expiry},
		"after another block": {append(append([]byte{}, key...), crt...), &expiry},
		"first of a bundle":   {append(append([]byte{}, crt...), leafPEM(t, expiry.Add(time.Hour))...), &expiry},
		"nothing":             {nil, nil},
		"junk":                {[]byte("junk"), nil},
		"certificate not DER": {[]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), nil},
	} {
		if got := NotAfter(tc.data); !sameTime(got, tc.want) {
			t.Errorf("%s: NotAfter = %v, want %v", name, got, tc.want)
		}
	}
}

func TestFromUnstructured(t *testing.T) {
	crt := leafPEM(t, t0)
	b64 := base64.StdEncoding.EncodeToString
	isTrue := true
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": "s", "namespace": "a", "uid": "u1",
			"annotations":     map[string]any{annotations.Keystores: "jks"},
			"ownerReferences": []any{map[string]any{"apiVersion": "v1", "kind": "Secret", "name": "src", "uid": "u0", "controller": isTrue}},
			"managedFields":   []any{map[string]any{"manager": "certinel", "operation": "Update", "time": "2026-12-01T12:00:00Z"}},
		},
		"data": map[string]any{"tls.crt": b64(crt), "tls.key": b64([]byte("key"))},
	}}
	o := FromUnstructured(secret)
	if o.Kind != KindSecret || o.Namespace != "a" || o.Name != "s" || o.UID != "u1" || o.Controller != "Secret/src" ||
		string(o.Data["tls.crt"]) != string(crt) || string(o.Data["tls.key"]) != "key" || len(o.ManagedFields) != 1 {
		t.Errorf("annotated Secret: %+v", o)
	}
	// A Secret that asks for nothing: only tls.crt is kept.
	unstructured.RemoveNestedField(secret.Object, "metadata", "annotations")
	if o := FromUnstructured(secret); len(o.Data) != 1 || o.Data["tls.crt"] == nil {
		t.Errorf("plain Secret keeps %v", o.Data)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata":   map[string]any{"name": "c", "namespace": "a", "annotations": map[string]any{annotations.Truststores: "jks"}},
		"data":       map[string]any{"ca.crt": string(crt)},
		"binaryData": map[string]any{"truststore.jks": b64([]byte{1, 2})},
	}}
	if o := FromUnstructured(cm); string(o.Data["ca.crt"]) != string(crt) || len(o.Data["truststore.jks"]) != 2 {
		t.Errorf("ConfigMap: %v", o.Data)
	}
	hook := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
		"metadata": map[string]any{"name": "h"},
		"webhooks": []any{
			map[string]any{"name": "a", "clientConfig": map[string]any{}},
			map[string]any{"name": "b", "clientConfig": map[string]any{"caBundle": b64(crt)}},
		},
	}}
	if o := FromUnstructured(hook); string(o.Data[CABundleKey]) != string(crt) {
		t.Errorf("webhook: %v", o.Data)
	}
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "route.openshift.io/v1", "kind": "Route",
		"metadata": map[string]any{"name": "r", "namespace": "a"},
		"spec":     map[string]any{"tls": map[string]any{"certificate": string(crt)}},
	}}
	if o := FromUnstructured(route); string(o.Data[RouteCertificateKey]) != string(crt) {
		t.Errorf("route: %v", o.Data)
	}
}

func TestFromEvent(t *testing.T) {
	e := &eventsv1.Event{
		Regarding:           corev1.ObjectReference{Kind: "Secret", Namespace: "a", Name: "s", UID: "u"},
		Type:                "Warning",
		Reason:              "MalformedPEM",
		Note:                "fix it",
		ReportingController: "certinel",
		EventTime:           metav1.NewMicroTime(t0),
	}
	got := FromEvent(e)
	want := Event{Kind: "Secret", Namespace: "a", Name: "s", UID: "u", Type: "Warning", Reason: "MalformedPEM", Note: "fix it", Time: t0, Controller: "certinel"}
	if got != want {
		t.Errorf("FromEvent = %+v, want %+v", got, want)
	}
	// A series counts from its last observation.
	e.Series = &eventsv1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(t0.Add(time.Hour))}
	if got := FromEvent(e); !got.Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("series: time %v", got.Time)
	}
	// A core/v1 Event: source component and last timestamp.
	core := &eventsv1.Event{DeprecatedSource: corev1.EventSource{Component: "certinel"}, DeprecatedLastTimestamp: metav1.NewTime(t0)}
	if got := FromEvent(core); got.Controller != "certinel" || !got.Time.Equal(t0) {
		t.Errorf("core Event: %+v", got)
	}
}
