package main

// Shared helpers of the cmd/certinel tests: PEM fixtures written to files
// and a runner for run().

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/testpki"
	"github.com/certinel/certinel/pkg/testutil"
)

// pemFiles are a testpki chain written as files: tls.crt (leaf,
// intermediate), tls.key (SEC1) and ca.crt (root).
type pemFiles struct {
	cert, key, ca            string
	leaf, intermediate, root *x509.Certificate
	leafKey                  crypto.Signer
}

// newPEMFiles issues root -> intermediate -> leaf for name.example.com, each
// with a fresh ECDSA key, and writes them into temporary directories.
func newPEMFiles(t *testing.T, name string) *pemFiles {
	t.Helper()
	fresh := func() crypto.Signer { return testpki.NewKey(t, testpki.ECDSA) }
	c := testpki.NewChainWithKeys(t, name, fresh(), fresh(), fresh())
	return &pemFiles{
		cert:         testutil.WriteFile(t, "tls.crt", testpki.CertsPEM(c.Leaf.Cert, c.Intermediate.Cert)),
		key:          testutil.WriteFile(t, "tls.key", testpki.KeyPEM(t, c.Leaf.Key)),
		ca:           testutil.WriteFile(t, "ca.crt", c.Root.PEM()),
		leaf:         c.Leaf.Cert,
		intermediate: c.Intermediate.Cert,
		root:         c.Root.Cert,
		leafKey:      c.Leaf.Key,
	}
}

// encryptedKey writes the key encrypted the legacy OpenSSL way.
func (f *pemFiles) encryptedKey(t *testing.T) string {
	t.Helper()
	return testutil.WriteFile(t, "encrypted.key", testpki.LegacyEncryptedPEM(t, f.leafKey, "secret"))
}

// longChain writes a tls.crt of n certificates: the leaf of f, then n-1
// CAs that are not its issuers (what counts is the number).
func (f *pemFiles) longChain(t *testing.T, n int) string {
	t.Helper()
	certs := []*x509.Certificate{f.leaf}
	key := testpki.Key(t, testpki.ECDSA, 0)
	for i := 1; i < n; i++ {
		certs = append(certs, testpki.Issue(t, testpki.Template{CommonName: fmt.Sprintf("CA %d", i), IsCA: true, Key: key}, nil).Cert)
	}
	return testutil.WriteFile(t, "long.crt", testpki.CertsPEM(certs...))
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
