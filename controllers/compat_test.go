package controllers

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	"github.com/certinel/certinel/pkg/annotations"
)

func TestCacheTransformCompat(t *testing.T) {
	transform := CacheTransform(annotations.Compat{CertUtils: true, Reloader: true}, nil)

	// A Secret asking for keystores with cert-utils keys alone keeps its
	// data, and its cached annotations are certinel's.
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "tls", Annotations: map[string]string{annotations.CertUtilsKeystores: "true"}},
		Data:       map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")},
	}
	out, err := transform(s)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Secret)
	if got.Data == nil || isTrimmed(got) {
		t.Fatal("the data of a Secret asking for cert-utils keystores was trimmed")
	}
	if got.Annotations[annotations.Keystores] != "jks" || got.Annotations[annotations.KeystoreAlias] != "alias" {
		t.Fatalf("annotations = %v", got.Annotations)
	}
	// client-go may transform an object it already transformed (a relist's
	// sync): the result is the same.
	first := maps.Clone(got.Annotations)
	if out, _ = transform(got); !maps.Equal(out.(*corev1.Secret).Annotations, first) {
		t.Fatalf("transforming twice: %v, want %v", out.(*corev1.Secret).Annotations, first)
	}

	// Without compat, the same Secret asks for nothing, and a copied
	// cache-only marker is dropped.
	plain := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "tls", Annotations: map[string]string{
			annotations.CertUtilsKeystores: "true", annotations.CompatDefaults: "cert-utils"}},
		Data: map[string][]byte{"tls.key": []byte("k")},
	}
	out, _ = TrimForCache(plain)
	if p := out.(*corev1.Secret); p.Data != nil || p.Annotations[annotations.CompatDefaults] != "" || p.Annotations[annotations.Keystores] != "" {
		t.Fatalf("without compat: data %v, annotations %v", p.Data, p.Annotations)
	}

	// A Deployment whose pod template carries Reloader's key keeps its
	// template and reads the key as certinel's.
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "app"}}
	d.Spec.Template.Annotations = map[string]string{annotations.ReloaderSecrets: "app-tls"}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "i"}}
	out, _ = transform(d)
	gd := out.(*appsv1.Deployment)
	if gd.Annotations[annotations.ReloadSecrets] != "app-tls" || len(gd.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("deployment annotations %v, template %+v", gd.Annotations, gd.Spec.Template)
	}
	if _, ok := gd.Spec.Template.Annotations[annotations.ReloadSecrets]; ok {
		t.Fatal("the translation touched the pod template")
	}
}

func TestWarnCompatOncePerChange(t *testing.T) {
	rec := events.NewFakeRecorder(10)
	transform := CacheTransform(annotations.Compat{CertUtils: true}, nil)
	newSecret := func(ann map[string]string) *corev1.Secret {
		out, _ := transform(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: "ns", UID: types.UID("uid-warn"), Annotations: ann}})
		return out.(*corev1.Secret)
	}
	s := newSecret(map[string]string{annotations.CertUtilsKeystores: "true", annotations.Keystores: "pkcs12"})
	warnCompat(context.Background(), rec, "test", s)
	warnCompat(context.Background(), rec, "test", s) // another controller, same object
	ev := drainEvents(rec)
	if len(ev) != 1 || !strings.Contains(ev[0], annotations.ReasonCompatKeyIgnored) || !strings.Contains(ev[0], annotations.Keystores) {
		t.Fatalf("events = %q, want one %s naming %s", ev, annotations.ReasonCompatKeyIgnored, annotations.Keystores)
	}
	s = newSecret(map[string]string{annotations.CertUtilsKeystores: "maybe"})
	warnCompat(context.Background(), rec, "test", s)
	if ev := drainEvents(rec); len(ev) != 1 || !strings.Contains(ev[0], "InvalidAnnotation") {
		t.Fatalf("events = %q, want one InvalidAnnotation", ev)
	}
	warnCompat(context.Background(), rec, "test", newSecret(nil))
	warnCompat(context.Background(), rec, "test", s)
	if ev := drainEvents(rec); len(ev) != 1 {
		t.Fatalf("events = %q: a warning that comes back is given again", ev)
	}
}

// keystoreConflicts: under --compat=cert-utils, the keys cert-utils wrote
// for its own annotations are taken over; anything else stays a conflict.
func TestKeystoreConflictsAdoptsCertUtilsKeys(t *testing.T) {
	keys := []string{"keystore.jks", "truststore.jks"}
	secret := func(ann map[string]string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "tls", Annotations: ann},
			Data:       map[string][]byte{"keystore.jks": []byte("cert-utils"), "truststore.jks": []byte("cert-utils")},
		}
	}
	adopting := map[string]string{annotations.CompatAdopt: "keystore.jks,truststore.jks"}
	if c := keystoreConflicts(secret(adopting), secret(adopting), keys); len(c) != 0 {
		t.Errorf("cert-utils' keys are conflicts: %q", c)
	}
	if c := keystoreConflicts(secret(nil), secret(nil), keys); len(c) != 2 {
		t.Errorf("without compat: conflicts %q, want both keys", c)
	}
	// Once certinel has written on the Secret, nothing is taken over any
	// more: a key it wrote and somebody replaced since stays theirs, and so
	// does a key it released (asking again gives DataKeyConflict).
	replaced := map[string]string{annotations.CompatAdopt: "keystore.jks,truststore.jks",
		annotations.ManagedKeys: "keystore.jks", annotations.ManagedDigests: "keystore.jks=0000000000000000"}
	if c := keystoreConflicts(secret(replaced), secret(replaced), keys); len(c) != 2 {
		t.Errorf("after certinel wrote: conflicts %q, want both keys", c)
	}
	// a keystores-target Secret is never cert-utils'
	target := secret(nil)
	target.Name = "tls-stores"
	if c := keystoreConflicts(secret(adopting), target, keys); len(c) != 2 {
		t.Errorf("target: conflicts %q, want both keys", c)
	}
}

func TestOnlyDataKeys(t *testing.T) {
	conflict := func(fields ...string) error {
		err := apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "bundle", errors.New("apply failed"))
		err.ErrStatus.Details.Causes = nil
		for _, f := range fields {
			err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: metav1.CauseTypeFieldManagerConflict, Field: f})
		}
		return err
	}
	adopt := []string{"truststore.jks", "ca.crt"}
	for name, tc := range map[string]struct {
		err  error
		keys []string
		want bool
	}{
		"adopted keys":     {conflict(".binaryData.truststore.jks", ".data.ca.crt"), adopt, true},
		"another key":      {conflict(".binaryData.truststore.jks", ".data.other"), adopt, false},
		"not a data key":   {conflict(".metadata.annotations.x"), adopt, false},
		"nothing to adopt": {conflict(".data.ca.crt"), nil, false},
		"no causes":        {conflict(), adopt, false},
		"not an API error": {errors.New("boom"), adopt, false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := onlyDataKeys(tc.err, tc.keys); got != tc.want {
				t.Fatalf("onlyDataKeys = %t, want %t", got, tc.want)
			}
		})
	}
}
