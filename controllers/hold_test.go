package controllers

import (
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/ownership"
	"github.com/certinel/certinel/pkg/reload"
)

// writtenSecret is a Secret into which certinel wrote keystores: the
// user's keys and the outputs with their bookkeeping.
func writtenSecret(t *testing.T) *corev1.Secret {
	t.Helper()
	tls := newTLS(t, "app")
	s := tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"})
	s.Data["app.conf"] = []byte("user config")
	ownership.Keystores.Apply(s, "v1:fp", map[string][]byte{
		annotations.KeystoreJKSKey: []byte("a keystore"), annotations.TruststoreJKSKey: []byte("a truststore"),
	})
	return s
}

// The cache holds the outputs as a record, and every reader gets from the
// cached copy what it would get from the Secret itself: reload the same
// digests (whole Secret and each key) without a read from the API server,
// and any other reader of a held key a read from the API server.
func TestHoldOutputs(t *testing.T) {
	whole := writtenSecret(t)
	cached := trimmed(t, whole.DeepCopy()).(*corev1.Secret)
	for _, k := range []string{annotations.KeystoreJKSKey, annotations.TruststoreJKSKey} {
		if v, ok := cached.Data[k]; !ok || len(v) != 0 {
			t.Errorf("cached %s: %q, want a key with an empty value", k, v)
		}
	}
	for _, k := range []string{annotations.TLSCertKey, annotations.TLSKeyKey, annotations.CACertKey, "app.conf"} {
		if string(cached.Data[k]) != string(whole.Data[k]) {
			t.Errorf("cached %s changed", k)
		}
	}
	for _, key := range []string{"", annotations.KeystoreJKSKey, annotations.TruststoreJKSKey, annotations.TLSCertKey, "app.conf", "absent"} {
		ref := reload.Ref{Kind: annotations.SecretSource, Name: srcName, Key: key}
		p := digestParser(ref)
		if a, b := p.parse(whole).digest, p.parse(cached).digest; a != b || a == "" {
			t.Errorf("reload digest of %q: %s from the Secret, %s from the cache", key, a, b)
		}
		if !p.readsHeld || !holdsAllButOutputs(cached) {
			t.Errorf("the reload digest of %q would be read from the API server", key)
		}
	}
	for keys, want := range map[string]bool{"": false, "keystore.jks": false, "tls.crt,keystore.jks": false, "tls.crt": true, "tls.crt,app.conf": true} {
		var ks []string
		if keys != "" {
			ks = strings.Split(keys, ",")
		}
		if got := holdsKeys(cached, ks); got != want {
			t.Errorf("holdsKeys(%q) = %t, want %t", keys, got, want)
		}
	}
	if got := ownership.Size(cached); got != ownership.Size(whole) {
		t.Errorf("Size of the cached copy %d, of the Secret %d", got, ownership.Size(whole))
	}
	again, _ := TrimForCache(cached)
	if !maps.Equal(again.(*corev1.Secret).Annotations, cached.Annotations) || len(ownership.Held(cached)) != 2 {
		t.Errorf("a second transform changed the record: %v", again.(*corev1.Secret).Annotations)
	}
}

// A write computed on the cached copy is the write computed on the Secret:
// applied to the Secret on the API server, it leaves the user's keys and
// the stores it did not rewrite as they are, and carries no cache-only key.
func TestHeldOutputsPatch(t *testing.T) {
	whole := writtenSecret(t)
	cached := trimmed(t, whole.DeepCopy()).(*corev1.Secret)
	base := cached.DeepCopy()
	// A renewal that asks for a PKCS#12 keystore instead of the JKS truststore.
	ownership.Keystores.Apply(cached, "v1:new", map[string][]byte{annotations.KeystoreJKSKey: []byte("new keystore"), annotations.KeystorePKCS12Key: []byte("p12")})
	patch, err := secretMergePatch(base, cached)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(patch), internalPrefix) {
		t.Fatalf("patch %s carries a cache-only key", patch)
	}
	got := applyPatch(t, whole.DeepCopy(), patch)
	want := whole.DeepCopy()
	ownership.Keystores.Apply(want, "v1:new", map[string][]byte{annotations.KeystoreJKSKey: []byte("new keystore"), annotations.KeystorePKCS12Key: []byte("p12")})
	if !maps.EqualFunc(got.Data, want.Data, func(a, b []byte) bool { return string(a) == string(b) }) || !maps.Equal(got.Annotations, want.Annotations) {
		t.Fatalf("patched Secret:\n%v\n%v\nwant:\n%v\n%v", dataKeys(got), got.Annotations, dataKeys(want), want.Annotations)
	}
}

// A user cannot forge the record: the cache drops the cache-only keys a
// user wrote, so reload hashes the Secret's data and nothing counts as held.
func TestHeldRecordCannotBeForged(t *testing.T) {
	s := writtenSecret(t)
	s.Annotations[reloadDigestsMark] = "*=forged," + annotations.KeystoreJKSKey + "=forged"
	s.Annotations[ownership.HeldAnnotation] = annotations.KeystoreJKSKey + "=1:0000000000000000"
	s.Data[annotations.KeystoreJKSKey] = []byte{}
	// No record is made of an empty value: the forged one is gone.
	cached := trimmed(t, s).(*corev1.Secret)
	if slices.Contains(ownership.Held(cached), annotations.KeystoreJKSKey) || strings.Contains(cached.Annotations[reloadDigestsMark], "forged") {
		t.Fatalf("forged record kept: %v", cached.Annotations)
	}
	p := digestParser(reload.Ref{Kind: annotations.SecretSource, Name: srcName})
	if d := p.parse(cached).digest; d == "forged" || d != reloadDigest(s.Name, "", s.Data) {
		t.Fatalf("reload digest %s, want the digest of the data", d)
	}
}

// Whatever a reconciler does to the cache-only keys of its copy, a patch
// never carries them to the API server.
func TestSecretPatchLeavesCacheOnlyKeys(t *testing.T) {
	base := writtenSecret(t)
	base.Annotations[reloadDigestsMark] = "*=old"
	s := base.DeepCopy()
	s.Annotations[reloadDigestsMark] = "*=new"
	s.Annotations[transformedMark] = "token"
	delete(s.Annotations, ownership.HeldAnnotation)
	patch, err := secretMergePatch(base, s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(patch), internalPrefix) || strings.Contains(string(patch), `"annotations"`) {
		t.Fatalf("patch %s", patch)
	}
}
