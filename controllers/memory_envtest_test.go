package controllers

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/testpki"
	"github.com/certinel/certinel/pkg/testutil"
)

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A Secret whose truststore sources name 100 Secrets of 900 KB each (one
// small CA certificate and 900 KB of anything else) costs certinel little:
// of each source it keeps only the parsed certificate, and nothing once the
// Secret that reads them is gone. Before, every source was kept whole (90
// MB) until the source itself was deleted.
func TestEnvReferencedSecretsCostLittle(t *testing.T) {
	const sources, junkSize = 100, 900 << 10
	s := startSuite(t)
	ns := s.namespace(t)
	tls := newTLS(t, "app")
	base := heapInUse()

	var refs []string
	cas := make([]*testCA, sources)
	for i := range sources {
		junk := make([]byte, junkSize)
		_, _ = rand.Read(junk)
		cas[i] = newCA(t, fmt.Sprintf("source %d", i))
		src := opaqueSecret(fmt.Sprintf("src-%d", i), map[string]string{"ca.crt": string(cas[i].pem)})
		src.Data["junk"] = junk
		s.create(t, ns, src)
		refs = append(refs, "secret:"+src.Name)
	}
	// The sources alone, as the cache holds them: metadata only.
	testutil.Eventually(t, converge, func() string {
		var list corev1.SecretList
		if err := s.hooks.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return err.Error()
		}
		if len(list.Items) < sources {
			return fmt.Sprintf("the cache has %d of the %d sources", len(list.Items), sources)
		}
		return ""
	})
	unread := heapInUse()
	s.create(t, ns, tlsSecret(srcName, tls, map[string]string{
		annotations.Keystores:         "jks",
		annotations.TruststoreSources: strings.Join(refs, ","),
	}))
	s.waitTruststore(t, ns, srcName, 2*converge, func(got []string) bool { return len(got) == sources+1 })
	if n := heldIn(s.r.reader(), ns); n != sources {
		t.Fatalf("%d sources held while the Secret reads %d", n, sources)
	}
	held := heapInUse()
	t.Logf("heap: %.1f MiB before the sources, %.1f MiB with %d × 900 KB sources in the cluster, %.1f MiB with them read", mib(base), mib(unread), sources, mib(held))
	if grown := int64(held) - int64(base); grown > 5<<20 {
		t.Errorf("the heap grew by %.1f MiB with the sources read, want < 5 MiB", float64(grown)/(1<<20))
	}

	if err := s.client.Delete(context.Background(), s.getSecret(t, ns, srcName)); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, converge, func() string {
		if n := heldIn(s.r.reader(), ns); n > 0 {
			return fmt.Sprintf("%d sources still held after the Secret that read them was deleted", n)
		}
		return ""
	})
	after := heapInUse()
	t.Logf("heap: %.1f MiB after the reading Secret was deleted", mib(after))
	if grown := int64(after) - int64(unread); grown > 1<<20 {
		t.Errorf("the heap is %.1f MiB above what it was before the sources were read, once the Secret that read them was deleted; want < 1 MiB",
			float64(grown)/(1<<20))
	}
}

// heldIn is the number of objects of namespace ns whose parsed data r holds.
func heldIn(r *SourceReader, ns string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k := range r.entries {
		if k.Namespace == ns {
			n++
		}
	}
	return n
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// The cache holds an unannotated kubernetes.io/tls Secret without its data,
// yet a truststore that reads it gets all of it: the three certificates of
// its tls.crt, read from the API server, never the trimmed copy.
func TestEnvTrimmedTLSSecretReadWhole(t *testing.T) {
	s := startSuite(t)
	ns := s.namespace(t)
	tls := newTLS(t, "app")
	chain := testpki.NewChain(t, "partner", testpki.NewKey(t, testpki.ECDSA))
	partner := &corev1.Secret{ObjectMeta: objectMeta("partner-tls", nil), Type: corev1.SecretTypeTLS, Data: map[string][]byte{
		annotations.TLSCertKey: testpki.CertsPEM(chain.Certs()...),
		annotations.TLSKeyKey:  testpki.KeyPEM(t, chain.Leaf.Key),
	}}
	s.create(t, ns, partner)
	testutil.Eventually(t, converge, func() string {
		var cached corev1.Secret
		if err := s.hooks.Get(context.Background(), client.ObjectKeyFromObject(partner), &cached); err != nil {
			return err.Error()
		}
		if len(cached.Data) != 0 || !isTrimmed(&cached) {
			return "the cache holds the unannotated TLS Secret's data, private key included"
		}
		return ""
	})
	s.create(t, ns, tlsSecret(srcName, tls, map[string]string{
		annotations.Keystores:         "jks",
		annotations.TruststoreSources: "secret:partner-tls/tls.crt",
	}))
	want := trustAliases(append([]*x509.Certificate{tls.root}, chain.Certs()...)...)
	s.waitTruststore(t, ns, srcName, converge, func(got []string) bool { return slices.Equal(got, want) })
}
