package pki

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/certinel/certinel/pkg/testpki"
)

// TestSharedCAs: a CA certificate parsed again is the same parsed
// certificate; a leaf is parsed anew each time; either equals what was
// given.
func TestSharedCAs(t *testing.T) {
	c := testpki.NewChain(t, "shared", testpki.Key(t, testpki.ECDSA, 1))
	bundle := testpki.CertsPEM(c.Root.Cert)
	chain := testpki.CertsPEM(c.Leaf.Cert, c.Intermediate.Cert)
	first, err := ParseCertificates(bundle)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseCertificates(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if first[0] != again[0] || !bytes.Equal(again[0].Raw, c.Root.Cert.Raw) {
		t.Error("the root, parsed twice, is not one parsed certificate equal to it")
	}
	a, err := ParseChain(chain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseChain(chain)
	if err != nil {
		t.Fatal(err)
	}
	if a[0] == b[0] || !bytes.Equal(b[0].Raw, c.Leaf.Cert.Raw) {
		t.Error("the leaf was kept, or parses to another certificate")
	}
	if a[1] != b[1] || !bytes.Equal(b[1].Raw, c.Intermediate.Cert.Raw) {
		t.Error("the intermediate, parsed twice, is not one parsed certificate equal to it")
	}
	if _, err := ParseCertificates(testpki.CRLF(bundle)); err != nil {
		t.Errorf("the same root with CRLF line ends: %v", err)
	}
}

// TestSharedCAsBounded: however many CAs a tenant's Secrets hold, the memo
// keeps at most its bound, and each parse still returns the certificate
// given, from several goroutines at once.
func TestSharedCAsBounded(t *testing.T) {
	m := caMemo{max: 4}
	var ders [][]byte
	for i := range 12 {
		ca := testpki.Issue(t, testpki.Template{CommonName: fmt.Sprintf("CA %d", i), IsCA: true, Key: testpki.Key(t, testpki.ECDSA, i)}, nil)
		ders = append(ders, ca.Cert.Raw)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				der := ders[(g+i)%len(ders)]
				c, err := m.parse(der)
				if err != nil || !bytes.Equal(c.Raw, der) {
					t.Errorf("parse of CA %d: %v", (g+i)%len(ders), err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := m.len(); n == 0 || n > 4 {
		t.Errorf("the memo holds %d certificates, want 1 to 4", n)
	}
	if _, err := m.parse([]byte("not DER")); err == nil {
		t.Error("garbage parsed")
	}
}
