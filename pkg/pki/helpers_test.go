package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/certinel/certinel/pkg/testpki"
)

var chains = struct {
	sync.Mutex
	m map[testpki.KeyType]*testpki.Chain
}{m: map[testpki.KeyType]*testpki.Chain{}}

// chainFor returns a root, intermediate and leaf whose leaf key has type
// kt, made once per test binary.
func chainFor(tb testing.TB, kt testpki.KeyType) *testpki.Chain {
	tb.Helper()
	chains.Lock()
	defer chains.Unlock()
	if c, ok := chains.m[kt]; ok {
		return c
	}
	c := testpki.NewChain(tb, "pki-"+string(kt), testpki.Key(tb, kt, 0))
	chains.m[kt] = c
	return c
}

// otherChain is a chain unrelated to chainFor's, with its own leaf key.
func otherChain(tb testing.TB) *testpki.Chain {
	tb.Helper()
	return testpki.NewChainWithKeys(tb, "other", testpki.Key(tb, testpki.ECDSA, 10), testpki.Key(tb, testpki.ECDSA, 11), testpki.Key(tb, testpki.ECDSA, 12))
}

func rsaKey(tb testing.TB) *rsa.PrivateKey {
	return testpki.Key(tb, testpki.RSA, 0).(*rsa.PrivateKey)
}

func ecKey(tb testing.TB) *ecdsa.PrivateKey {
	return testpki.Key(tb, testpki.ECDSA, 0).(*ecdsa.PrivateKey)
}

// cut returns the first half of data: a PEM cut in the middle.
func cut(data []byte) []byte { return bytes.Clone(data[:len(data)/2]) }

// garbageBlock is a block of type typ whose content is not DER.
func garbageBlock(typ string) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: []byte("this is not DER at all, just some bytes")})
}

// x25519PKCS8PEM is a PKCS#8 "PRIVATE KEY" that is not a signing key.
func x25519PKCS8PEM(tb testing.TB) []byte {
	tb.Helper()
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// keyEqual reports whether two private keys are the same key.
func keyEqual(a, b crypto.Signer) bool {
	eq, ok := a.(interface{ Equal(crypto.PrivateKey) bool })
	return ok && eq.Equal(b)
}

// raws is the DER of each certificate.
func raws(certs []*x509.Certificate) [][]byte {
	out := make([][]byte, len(certs))
	for i, c := range certs {
		out[i] = c.Raw
	}
	return out
}

// seedCertInputs and seedKeyInputs are good and bad inputs shared by the
// table tests' fixtures and the fuzz corpora.
func seedCertInputs(tb testing.TB) [][]byte {
	tb.Helper()
	c := chainFor(tb, testpki.ECDSA)
	full := testpki.CertsPEM(c.Certs()...)
	return [][]byte{
		nil,
		[]byte("garbage"),
		c.Leaf.PEM(),
		full,
		testpki.CertsPEM(c.Root.Cert, c.Leaf.Cert, c.Intermediate.Cert),
		cut(full),
		cut(c.Leaf.PEM()),
		garbageBlock("CERTIFICATE"),
		testpki.Join(c.Leaf.PEM(), garbageBlock("CERTIFICATE")),
		testpki.CRLF(full),
		testpki.Rewrap(tb, full, 76),
		[]byte("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
		testpki.Join(testpki.KeyPEM(tb, c.Leaf.Key), c.Leaf.PEM()),
	}
}

func seedKeyInputs(tb testing.TB) [][]byte {
	tb.Helper()
	rk, ek := rsaKey(tb), ecKey(tb)
	ed := testpki.Key(tb, testpki.Ed25519, 0)
	return [][]byte{
		nil,
		[]byte("garbage"),
		testpki.PKCS1PEM(rk),
		testpki.PKCS8PEM(tb, rk),
		testpki.SEC1PEM(tb, ek),
		testpki.PKCS8PEM(tb, ek),
		testpki.PKCS8PEM(tb, ed),
		testpki.EncryptedPKCS8PEM(tb, ek, "pass"),
		testpki.LegacyEncryptedPEM(tb, rk, "pass"),
		cut(testpki.PKCS8PEM(tb, ek)),
		garbageBlock("PRIVATE KEY"),
		garbageBlock("RSA PRIVATE KEY"),
		garbageBlock("EC PRIVATE KEY"),
		x25519PKCS8PEM(tb),
		chainFor(tb, testpki.ECDSA).Leaf.PEM(),
		[]byte(testpki.DSAKeyPEM),
		[]byte(dsaTraditionalPEM),
		[]byte(ed448PEM),
		[]byte(x448PEM),
	}
}

// caPath issues n CAs, CA i signed by CA i+1 and the last one self-signed,
// each with its own key and the common name name(i), and a leaf signed by
// CA 0. It returns the leaf's key and the n+1 certificates leaf first.
func caPath(tb testing.TB, n int, name func(i int) string) (crypto.Signer, []*x509.Certificate) {
	tb.Helper()
	cas := make([]*testpki.Cert, n)
	for i := n - 1; i >= 0; i-- {
		var issuer *testpki.Cert
		if i < n-1 {
			issuer = cas[i+1]
		}
		cas[i] = testpki.Issue(tb, testpki.Template{CommonName: name(i), IsCA: true, Key: testpki.NewKey(tb, testpki.ECDSA)}, issuer)
	}
	leafKey := testpki.NewKey(tb, testpki.ECDSA)
	certs := []*x509.Certificate{testpki.Issue(tb, testpki.Template{CommonName: "leaf", Key: leafKey}, cas[0]).Cert}
	for _, c := range cas {
		certs = append(certs, c.Cert)
	}
	return leafKey, certs
}

// distinctNames names CA i "CA i".
func distinctNames(i int) string { return fmt.Sprintf("CA %d", i) }

// alternatingNames gives the CAs two names in turn, so that every CA of
// the other name is a candidate issuer at each step of a chain walk.
func alternatingNames(i int) string { return []string{"CA A", "CA B"}[i%2] }

var bundle = struct {
	sync.Mutex
	certs []*x509.Certificate
}{}

// bundleOf returns n distinct certificates signed by one CA, made once per
// test binary (up to the largest n asked for).
func bundleOf(tb testing.TB, n int) []*x509.Certificate {
	tb.Helper()
	bundle.Lock()
	defer bundle.Unlock()
	if len(bundle.certs) < n {
		ca := testpki.Issue(tb, testpki.Template{CommonName: "bundle CA", IsCA: true, Key: testpki.Key(tb, testpki.ECDSA, 20)}, nil)
		key := testpki.Key(tb, testpki.ECDSA, 21)
		for i := len(bundle.certs); i < n; i++ {
			bundle.certs = append(bundle.certs, testpki.Issue(tb, testpki.Template{CommonName: fmt.Sprintf("cert %d", i), Key: key}, ca).Cert)
		}
	}
	return bundle.certs[:n]
}

// reversed is a reversed copy of certs.
func reversed(certs []*x509.Certificate) []*x509.Certificate {
	out := slices.Clone(certs)
	slices.Reverse(out)
	return out
}
