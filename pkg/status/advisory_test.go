package status

import (
	"encoding/base64"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/certinel/certinel/pkg/annotations"
)

// An advisory Warning newer than a bad-input Warning does not hide the bad
// input: it only decorates an up-to-date row.
func TestAdvisoryWarningDoesNotHideBadInput(t *testing.T) {
	crt := leafPEM(t, t0.Add(10*24*time.Hour))
	upToDateAnn := map[string]string{annotations.Keystores: "jks", annotations.ManagedKeys: "keystore.jks,truststore.jks", annotations.KeystoresFingerprint: "fp"}
	objs := []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: upToDateAnn,
		Data: map[string][]byte{"tls.crt": crt, "keystore.jks": nil, "truststore.jks": nil}, ManagedFields: wrote("certinel", t0)}}
	events := []Event{
		warning(KindSecret, "a", "s", "KeyCertificateMismatch", t0.Add(time.Minute)),
		warning(KindSecret, "a", "s", "CertificateExpiringSoon", t0.Add(time.Minute+time.Second)),
	}
	r := Rows(objs, events)[0]
	t.Logf("state: %s, message %q", FormatState(r), r.Message)
	if r.State != BadInput {
		t.Errorf("bad input KeyCertificateMismatch shown as %q", FormatState(r))
	}
	// Never written Secret: pending's message is replaced by the advisory note.
	objs = []Object{{Kind: KindSecret, Namespace: "a", Name: "s", Annotations: map[string]string{annotations.Keystores: "jks"}, Data: map[string][]byte{"tls.crt": crt}}}
	r = Rows(objs, events)[0]
	t.Logf("never written: %s, message %q", FormatState(r), r.Message)
	if r.State != BadInput {
		t.Errorf("never written: bad input shown as %q", FormatState(r))
	}
}

// A webhook configuration whose caBundle was emptied (Helm upgrade, kubectl
// apply of the original manifest) is pending, not up to date.
func TestEmptiedCABundleIsPending(t *testing.T) {
	hook := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
		"metadata": map[string]any{"name": "h", "annotations": map[string]any{annotations.InjectCAFrom: "pki/ca", annotations.InjectedCAs: "abc"}},
		"webhooks": []any{map[string]any{"name": "a", "clientConfig": map[string]any{"caBundle": ""}}},
	}}
	r := Rows([]Object{FromUnstructured(hook)}, nil)[0]
	t.Logf("state %s", FormatState(r))
	if r.State != Pending {
		t.Errorf("webhook without caBundle shown as %q", FormatState(r))
	}
}

// Memory: a Secret that asks certinel for nothing keeps neither its
// last-applied annotation (with the Secret's data) nor its managedFields.
func TestObjectsOfNoConcernKeepNothing(t *testing.T) {
	big := base64.StdEncoding.EncodeToString(make([]byte, 1<<20))
	s := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "s", "namespace": "a",
			"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"tls.key":"` + big + `"}}`}},
		"data": map[string]any{"tls.key": big},
	}}
	o := FromUnstructured(s)
	n := 0
	for _, v := range o.Annotations {
		n += len(v)
	}
	if n > 1000 {
		t.Errorf("a plain Secret keeps %d bytes of annotations", n)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "c", "namespace": "a",
			"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": big}},
	}}
	o = FromUnstructured(cm)
	if len(o.Annotations) > 0 {
		t.Errorf("a plain ConfigMap (never a row, never looked up) is kept with %d annotations", len(o.Annotations))
	}
}

// Odd objects must not crash.
func TestOddObjectsDoNotCrash(t *testing.T) {
	for _, obj := range []map[string]any{
		{"kind": "Secret", "metadata": map[string]any{"annotations": []any{int64(1)}}, "data": []any{"x"}},
		{"kind": "Secret", "metadata": map[string]any{"annotations": map[string]any{annotations.Keystores: int64(5)}, "ownerReferences": "x", "managedFields": int64(3)}, "data": map[string]any{"tls.crt": nil}},
		{"kind": "ConfigMap", "metadata": map[string]any{"annotations": map[string]any{annotations.InjectCAFrom: "a/b"}}, "data": map[string]any{"ca.crt": int64(1)}, "binaryData": "x"},
		{"kind": "ValidatingWebhookConfiguration", "metadata": map[string]any{"annotations": map[string]any{annotations.InjectCAFrom: "a/b"}}, "webhooks": []any{"x", nil, map[string]any{"clientConfig": "y"}, map[string]any{"clientConfig": map[string]any{"caBundle": int64(7)}}}},
		{"kind": "CustomResourceDefinition", "spec": "x"},
		{"kind": "APIService", "spec": map[string]any{"caBundle": []any{}}},
		{"kind": "Route", "spec": map[string]any{"tls": "x"}},
		{"kind": "Ingress", "metadata": map[string]any{"annotations": map[string]any{annotations.CertsFromSecret: "x", annotations.ManagedFields: "tls:"}}},
		{"kind": "Deployment", "metadata": map[string]any{"annotations": map[string]any{annotations.Reload: "auto"}}, "spec": map[string]any{"template": "x"}},
	} {
		o := FromUnstructured(&unstructured.Unstructured{Object: obj})
		Rows([]Object{o, {Kind: KindSecret}, {Kind: KindIngress, Annotations: map[string]string{annotations.CertsFromSecret: ""}}}, []Event{{}})
	}
}
