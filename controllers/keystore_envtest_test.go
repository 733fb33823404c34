package controllers

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/testutil"
)

// How long the envtest tests wait for the manager to converge.
const converge = 30 * time.Second

// truststoreAliases is the sorted aliases of the JKS truststore of s, or
// an explanation of why there is none yet.
func truststoreAliases(s *corev1.Secret, password string) ([]string, string) {
	if s == nil {
		return nil, "the Secret does not exist"
	}
	data, ok := s.Data[annotations.TruststoreJKSKey]
	if !ok {
		return nil, "no truststore.jks yet"
	}
	ks, err := loadJKSStore(data, password)
	if err != nil {
		return nil, err.Error()
	}
	aliases := ks.Aliases()
	slices.Sort(aliases)
	return aliases, ""
}

// waitTruststore waits until the JKS truststore of Secret ns/name (password
// changeit) has aliases that ok accepts.
func (s *envSuite) waitTruststore(t *testing.T, ns, name string, timeout time.Duration, ok func(aliases []string) bool) {
	t.Helper()
	testutil.Eventually(t, timeout, func() string {
		got, why := truststoreAliases(s.getSecret(t, ns, name), "changeit")
		if why != "" {
			return why
		}
		if !ok(got) {
			return fmt.Sprintf("truststore aliases %v", got)
		}
		return ""
	})
}

// A change to a ConfigMap a Secret reads as a truststore source
// re-reconciles that Secret: the referrers watch and the reference index.
func TestEnvConfigMapChangeUpdatesTruststore(t *testing.T) {
	s := startSuite(t)
	ns := s.namespace(t)
	tls, caA, caB := newTLS(t, "app"), newCA(t, "a"), newCA(t, "b")
	s.create(t, ns, configMap("bundle", map[string]string{"ca.crt": string(caA.pem)}))
	s.create(t, ns, tlsSecret(srcName, tls, map[string]string{
		annotations.Keystores:         "jks",
		annotations.TruststoreSources: "configmap:bundle",
	}))

	wait := func(want []string) {
		t.Helper()
		s.waitTruststore(t, ns, srcName, converge, func(got []string) bool { return slices.Equal(got, want) })
	}
	wait(trustAliases(tls.root, caA.cert))

	var cm corev1.ConfigMap
	if err := s.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "bundle"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["ca.crt"] = string(caB.pem)
	if err := s.client.Update(context.Background(), &cm); err != nil {
		t.Fatal(err)
	}
	wait(trustAliases(tls.root, caB.cert))
}

// A Secret whose password Secret is missing gets a Warning and no stores;
// creating the password Secret later (an Opaque Secret whose data the cache
// drops, so it is read live) makes the stores appear, and changing it
// re-encrypts them.
func TestEnvPasswordSecretCreatedLater(t *testing.T) {
	s := startSuite(t)
	ns := s.namespace(t)
	tls := newTLS(t, "app")
	s.create(t, ns, tlsSecret(srcName, tls, map[string]string{
		annotations.Keystores:              "jks",
		annotations.KeystorePasswordSecret: "store-pw",
	}))
	testutil.Eventually(t, converge, func() string {
		if !s.hasEvent(t, ns, srcName, badinput.MissingPasswordSecret) {
			return "no MissingPasswordSecret event"
		}
		return ""
	})
	if sec := s.getSecret(t, ns, srcName); sec.Data[annotations.KeystoreJKSKey] != nil {
		t.Fatal("keystore.jks written without its password Secret")
	}

	pw := opaqueSecret("store-pw", map[string]string{"password": "first-pw"})
	s.create(t, ns, pw)
	waitKeystore := func(password string) {
		t.Helper()
		testutil.Eventually(t, converge, func() string {
			sec := s.getSecret(t, ns, srcName)
			data, ok := sec.Data[annotations.KeystoreJKSKey]
			if !ok {
				return "no keystore.jks yet"
			}
			if _, err := loadJKSStore(data, password); err != nil {
				return fmt.Sprintf("keystore.jks does not open with %q: %v", password, err)
			}
			return ""
		})
	}
	waitKeystore("first-pw")

	pw.Data["password"] = []byte("second-pw")
	if err := s.client.Update(context.Background(), pw); err != nil {
		t.Fatal(err)
	}
	waitKeystore("second-pw")
	requireKeystoreJKS(t, s.getSecret(t, ns, srcName).Data[annotations.KeystoreJKSKey], "second-pw", "certificate", tls.leaf)
}

// certinel's merge patch carries the resourceVersion it read: a user write
// that lands right before it makes it fail with a conflict instead of
// writing stores for a stale certificate, and after the retry both the
// user's change and stores for the new certificate are there.
func TestEnvPatchDoesNotClobberConcurrentChange(t *testing.T) {
	s := startSuite(t)
	ns := s.namespace(t)
	tls, renewed := newTLS(t, "app"), newTLS(t, "renewed")
	key := types.NamespacedName{Namespace: ns, Name: srcName}
	hooked := make(chan struct{})
	s.hooks.beforeFirstPatch(key, func() {
		defer close(hooked)
		var sec corev1.Secret
		if err := s.client.Get(context.Background(), key, &sec); err != nil {
			t.Errorf("concurrent writer: %v", err)
			return
		}
		sec.Data["user.conf"] = []byte("added concurrently")
		sec.Data[annotations.TLSCertKey], sec.Data[annotations.TLSKeyKey] = renewed.cert, renewed.key
		if err := s.client.Update(context.Background(), &sec); err != nil {
			t.Errorf("concurrent writer: %v", err)
		}
	})
	s.create(t, ns, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"}))

	select {
	case <-hooked:
	case <-time.After(converge):
		t.Fatal("certinel never patched the Secret")
	}
	testutil.Eventually(t, converge, func() string { return keystoreLeafDiffers(s.getSecret(t, ns, srcName), renewed) })
	sec := s.getSecret(t, ns, srcName)
	if string(sec.Data["user.conf"]) != "added concurrently" {
		t.Fatalf("the concurrent user change was lost: data keys %v", dataKeys(sec))
	}
	if !bytes.Equal(sec.Data[annotations.TLSCertKey], renewed.cert) {
		t.Fatal("tls.crt was overwritten with the old certificate")
	}
	if n := s.hooks.conflictCount(key); n < 1 {
		t.Fatalf("certinel's patch after the concurrent write got %d conflicts, want at least 1 (no optimistic lock?)", n)
	}
}

// keystoreLeafDiffers says why keystore.jks of s (password changeit, alias
// certificate) does not hold the certificate of want, or "" when it does.
func keystoreLeafDiffers(s *corev1.Secret, want *testTLS) string {
	data, ok := s.Data[annotations.KeystoreJKSKey]
	if !ok {
		return "no keystore.jks yet"
	}
	ks, err := loadJKSStore(data, "changeit")
	if err != nil {
		return "keystore.jks: " + err.Error()
	}
	entry, err := ks.GetPrivateKeyEntry("certificate", []byte("changeit"))
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(entry.CertificateChain[0].Content, want.leaf.Raw) {
		return "keystore.jks holds another certificate"
	}
	return ""
}

// A target deleted by somebody is recreated: a target's events map to its
// source through the owner index. Removing the annotations then deletes it.
func TestEnvTargetRecreated(t *testing.T) {
	s := startSuite(t)
	ns := s.namespace(t)
	tls := newTLS(t, "app")
	const target = "app-stores"
	s.create(t, ns, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.KeystoresTarget: target}))

	var first *corev1.Secret
	testutil.Eventually(t, converge, func() string {
		if first = s.getSecret(t, ns, target); first == nil {
			return "no target yet"
		}
		return ""
	})
	if err := s.client.Delete(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, converge, func() string {
		tgt := s.getSecret(t, ns, target)
		if tgt == nil || tgt.UID == first.UID {
			return "the target was not recreated"
		}
		if _, ok := tgt.Data[annotations.KeystoreJKSKey]; !ok {
			return "the new target has no keystore.jks"
		}
		return ""
	})

	s.updateSecret(t, ns, srcName, func(src *corev1.Secret) {
		delete(src.Annotations, annotations.Keystores)
		delete(src.Annotations, annotations.KeystoresTarget)
	})
	testutil.Eventually(t, converge, func() string {
		if s.getSecret(t, ns, target) != nil {
			return "the target still exists after the annotations were removed"
		}
		return ""
	})
	if got := s.getSecret(t, ns, srcName); !slices.Equal(dataKeys(got), []string{"ca.crt", "tls.crt", "tls.key"}) {
		t.Fatalf("source data keys = %v", dataKeys(got))
	}
}

// Secrets that another Secret controls but that certinel did not create
// are left alone when certinel reconciles that Secret. The two alias
// changes are a barrier: a Secret is never reconciled twice at once, so
// once the second alias is written, the reconcile that wrote the first
// one, which started after the children were in the cache, has finished.
func TestEnvForeignChildSecretsLeftAlone(t *testing.T) {
	s := startSuite(t)
	ns := s.namespace(t)
	tls := newTLS(t, "app")
	parent := tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"})
	s.create(t, ns, parent)
	controller := true
	owner := []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: parent.Name, UID: parent.UID, Controller: &controller}}
	children := map[string]*corev1.Secret{
		"tls-child":       {ObjectMeta: metav1.ObjectMeta{Name: "tls-child", OwnerReferences: owner}, Type: corev1.SecretTypeTLS, Data: tlsSecret("", tls, nil).Data},
		"dockercfg-child": {ObjectMeta: metav1.ObjectMeta{Name: "dockercfg-child", OwnerReferences: owner}, Type: corev1.SecretTypeDockercfg, Data: map[string][]byte{".dockercfg": []byte("{}")}},
	}
	for _, c := range children {
		s.create(t, ns, c)
	}
	for _, alias := range []string{"barrier-1", "barrier-2"} {
		s.updateSecret(t, ns, srcName, func(src *corev1.Secret) {
			src.Annotations[annotations.KeystoreAlias] = alias
		})
		testutil.Eventually(t, converge, func() string {
			ks, err := loadJKSStore(s.getSecret(t, ns, srcName).Data[annotations.KeystoreJKSKey], "changeit")
			if err != nil || !ks.IsPrivateKeyEntry(alias) {
				return fmt.Sprintf("keystore.jks has no alias %s yet (%v)", alias, err)
			}
			return ""
		})
	}
	for name, c := range children {
		got := s.getSecret(t, ns, name)
		switch {
		case got == nil:
			t.Errorf("certinel deleted Secret %s, which it did not create", name)
		case got.ResourceVersion != c.ResourceVersion:
			t.Errorf("certinel changed Secret %s, which it did not create: ownerReferences %+v", name, got.OwnerReferences)
		}
	}
}
