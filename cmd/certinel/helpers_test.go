package main

// Shared helpers of the cmd/certinel tests: PEM fixtures written to files
// and a runner for run().

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pemFiles are a chain written as files: tls.crt (leaf, intermediate),
// tls.key (SEC1) and ca.crt (root). pkg/internal/testpki cannot be
// imported from cmd/ (Go's internal rule), so the chain is made here.
type pemFiles struct {
	cert, key, ca            string
	certPEM, keyPEM          []byte
	leaf, intermediate, root *x509.Certificate
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func issue(t *testing.T, tpl *x509.Certificate, key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tpl.SerialNumber = serial
	tpl.NotBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	tpl.NotAfter = tpl.NotBefore.Add(90 * 24 * time.Hour)
	tpl.BasicConstraintsValid = true
	if parent == nil {
		parent, parentKey = tpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func certsPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// newPEMFiles issues root -> intermediate -> leaf for name.example.com and
// writes them into a temporary directory.
func newPEMFiles(t *testing.T, name string) *pemFiles {
	t.Helper()
	rootKey, intKey, leafKey := newKey(t), newKey(t), newKey(t)
	ca := x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	root := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: name + " Root CA"}, IsCA: true, KeyUsage: ca}, rootKey, nil, nil)
	inter := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: name + " Intermediate CA"}, IsCA: true, KeyUsage: ca}, intKey, root, rootKey)
	leaf := issue(t, &x509.Certificate{
		Subject:  pkix.Name{CommonName: name + ".example.com"},
		DNSNames: []string{name + ".example.com"},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}, leafKey, inter, intKey)
	der, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	f := &pemFiles{
		certPEM:      certsPEM(leaf, inter),
		keyPEM:       pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}),
		leaf:         leaf,
		intermediate: inter,
		root:         root,
	}
	f.cert = writeFile(t, "tls.crt", f.certPEM)
	f.key = writeFile(t, "tls.key", f.keyPEM)
	f.ca = writeFile(t, "ca.crt", certsPEM(root))
	return f
}

// encryptedKey writes the key encrypted the legacy OpenSSL way.
func (f *pemFiles) encryptedKey(t *testing.T) string {
	t.Helper()
	b, _ := pem.Decode(f.keyPEM)
	//nolint:staticcheck // an encrypted key is the bad input under test
	enc, err := x509.EncryptPEMBlock(rand.Reader, b.Type, b.Bytes, []byte("secret"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "encrypted.key", pem.EncodeToMemory(enc))
}

// writeFile writes data to a new file in a temporary directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runResult is what run() returned and printed.
type runResult struct {
	code           int
	stdout, stderr string
}

func runArgs(args ...string) runResult {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return runResult{code, stdout.String(), stderr.String()}
}

// requireCode fails unless the run exited with code.
func (r runResult) requireCode(t *testing.T, code int) runResult {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("%s does not contain %q:\n%s", what, w, out)
		}
	}
}
