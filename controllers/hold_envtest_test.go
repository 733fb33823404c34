package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/ownership"
	"github.com/certinel/certinel/pkg/testutil"
)

// The cache holds the keystores certinel wrote as a record of their sizes
// and digests (holdOutputs), and on the API server nothing shows it: a
// renewal writes stores for the new certificate beside the user's keys, no
// cache-only key is ever written, and a store the user replaced is still
// recognised as theirs and left alone.
func TestEnvHeldOutputs(t *testing.T) {
	s := startSuite(t)
	ns := s.namespace(t)
	tls, renewed, again := newTLS(t, "app"), newTLS(t, "renewed"), newTLS(t, "again")
	src := tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.CertInfo: "true"})
	src.Data["app.conf"] = []byte("user config")
	s.create(t, ns, src)
	key := types.NamespacedName{Namespace: ns, Name: srcName}

	waitLeaf := func(want *testTLS) {
		t.Helper()
		testutil.Eventually(t, converge, func() string { return keystoreLeafDiffers(s.getSecret(t, ns, srcName), want) })
	}
	waitLeaf(tls)
	// The cache catches up with the write: its copy holds the stores as a record.
	testutil.Eventually(t, converge, func() string {
		var cached corev1.Secret
		if err := s.hooks.Get(context.Background(), key, &cached); err != nil {
			return err.Error()
		}
		if held := ownership.Held(&cached); len(held) < 2 || len(cached.Data[annotations.KeystoreJKSKey]) != 0 {
			return fmt.Sprintf("cached copy holds %q as a record, keystore.jks of %d bytes", held, len(cached.Data[annotations.KeystoreJKSKey]))
		}
		return ""
	})

	s.updateSecret(t, ns, srcName, func(sec *corev1.Secret) {
		sec.Data[annotations.TLSCertKey], sec.Data[annotations.TLSKeyKey] = renewed.cert, renewed.key
	})
	waitLeaf(renewed)
	sec := s.getSecret(t, ns, srcName)
	requireKeystoreJKS(t, sec.Data[annotations.KeystoreJKSKey], "changeit", "certificate", renewed.leaf)
	if string(sec.Data["app.conf"]) != "user config" || len(sec.Data[annotations.TruststoreJKSKey]) == 0 ||
		!strings.Contains(string(sec.Data[annotations.TLSCertInfoKey]), renewed.leaf.Subject.CommonName) {
		t.Fatalf("after the renewal: data keys %v, tls.crt.info %q", dataKeys(sec), sec.Data[annotations.TLSCertInfoKey])
	}
	for k := range sec.Annotations {
		if strings.HasPrefix(k, internalPrefix) {
			t.Fatalf("cache-only annotation %s written to the API server", k)
		}
	}
	if got := ownership.Keystores.Replaced(sec); len(got) != 0 {
		t.Fatalf("after certinel's own write, %q count as replaced", got)
	}

	// The user replaces keystore.jks; the next renewal must not overwrite it.
	s.updateSecret(t, ns, srcName, func(sec *corev1.Secret) { sec.Data[annotations.KeystoreJKSKey] = []byte("mine") })
	s.updateSecret(t, ns, srcName, func(sec *corev1.Secret) {
		sec.Data[annotations.TLSCertKey], sec.Data[annotations.TLSKeyKey] = again.cert, again.key
	})
	testutil.Eventually(t, converge, func() string {
		if !s.hasEvent(t, ns, srcName, badinput.DataKeyConflict) {
			return "no DataKeyConflict Event"
		}
		return ""
	})
	if got := s.getSecret(t, ns, srcName).Data[annotations.KeystoreJKSKey]; string(got) != "mine" {
		t.Fatalf("the user's keystore.jks was overwritten (%d bytes)", len(got))
	}
}
