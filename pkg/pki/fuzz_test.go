package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"slices"
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/testpki"
)

// requireBadInput fails unless err is a *badinput.Error with a message and
// one of reasons.
func requireBadInput(t *testing.T, err error, reasons ...string) {
	t.Helper()
	e, ok := badinput.As(err)
	if !ok {
		t.Fatalf("error %T %q is not a *badinput.Error", err, err)
	}
	if e.Reason == "" || e.Message == "" || !slices.Contains(reasons, e.Reason) {
		t.Fatalf("reason %q (%q), want one of %v", e.Reason, e.Message, reasons)
	}
}

func FuzzParseCertificates(f *testing.F) {
	for _, s := range seedCertInputs(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParsed(t, data, ParseCertificates, MaxBundle, badinput.BundleTooLarge)
	})
}

func FuzzParseChain(f *testing.F) {
	for _, s := range seedCertInputs(f) {
		f.Add(s)
	}
	_, path := caPath(f, MaxChain, distinctNames)
	f.Add(testpki.CertsPEM(path[:MaxChain]...))
	f.Add(testpki.CertsPEM(path...))
	f.Add(testpki.CertsPEM(reversed(path)...))
	f.Add(bytes.Repeat(garbageBlock("CERTIFICATE"), MaxChain+1))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs := checkParsed(t, data, ParseChain, MaxChain, badinput.ChainTooLong)
		// A chain is a bundle too, and reads the same.
		bundle, err := ParseCertificates(data)
		if certs != nil && (err != nil || !testpki.SameCerts(bundle, certs)) {
			t.Fatalf("ParseCertificates differs from ParseChain: %d certificates, %v", len(bundle), err)
		}
	})
}

// checkParsed runs parse on data and checks the result against the
// contract shared by ParseCertificates and ParseChain, whose limit is max
// with reason tooMany. It returns the certificates, nil on error.
func checkParsed(t *testing.T, data []byte, parse func([]byte) ([]*x509.Certificate, error), max int, tooMany string) []*x509.Certificate {
	t.Helper()
	n := bytes.Count(data, []byte("-----BEGIN CERTIFICATE-----"))
	certs, err := parse(data)
	if err != nil {
		requireBadInput(t, err, badinput.MalformedPEM, badinput.NoCertificate, tooMany)
		if e, _ := badinput.As(err); e.Reason == tooMany && n <= max {
			t.Fatalf("%s with %d BEGIN CERTIFICATE lines", tooMany, n)
		}
		if certs != nil {
			t.Fatal("certificates returned with an error")
		}
		return nil
	}
	if len(certs) == 0 || len(certs) > max || len(data) > MaxPEMSize {
		t.Fatalf("%d certificates from %d bytes", len(certs), len(data))
	}
	if len(certs) > n {
		t.Fatalf("%d certificates from %d BEGIN CERTIFICATE lines", len(certs), n)
	}
	// Re-encoding the result parses to the same certificates.
	again, err := parse(testpki.CertsPEM(certs...))
	if err != nil || !testpki.SameCerts(again, certs) {
		t.Fatalf("re-encoded certificates do not parse back: %v", err)
	}
	return certs
}

func FuzzParsePrivateKey(f *testing.F) {
	for _, s := range seedKeyInputs(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParsePrivateKey(data)
		if err != nil {
			requireBadInput(t, err, badinput.MalformedPEM, badinput.NoPrivateKey, badinput.EncryptedPrivateKey, badinput.UnsupportedKeyType)
			if key != nil {
				t.Fatal("key returned with an error")
			}
			if e, _ := badinput.As(err); e.Reason == badinput.UnsupportedKeyType && !strings.HasSuffix(e.Message, "; use RSA, ECDSA or Ed25519") {
				t.Fatalf("UnsupportedKeyType message %q does not say what to use", e.Message)
			}
			return
		}
		checkKey(t, key)
		if !bytes.Contains(data, []byte("PRIVATE KEY-----")) {
			t.Fatal("a key without a PRIVATE KEY block")
		}
	})
}

func FuzzParseKeyPair(f *testing.F) {
	certs, keys := seedCertInputs(f), seedKeyInputs(f)
	c := chainFor(f, testpki.ECDSA)
	good := testpki.CertsPEM(c.Certs()...)
	goodKey := testpki.KeyPEM(f, c.Leaf.Key)
	f.Add(good, goodKey)
	f.Add(testpki.CertsPEM(c.Root.Cert, c.Leaf.Cert, c.Intermediate.Cert), goodKey)
	f.Add(good, testpki.KeyPEM(f, otherChain(f).Leaf.Key))
	f.Add(good, testpki.KeyPEM(f, c.Intermediate.Key))
	f.Add([]byte{}, []byte{})
	for i := range max(len(certs), len(keys)) {
		f.Add(certs[i%len(certs)], keys[i%len(keys)])
		f.Add(good, keys[i%len(keys)])
		f.Add(certs[i%len(certs)], goodKey)
	}
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		kp, err := ParseKeyPair(certPEM, keyPEM)
		if err != nil {
			requireBadInput(t, err, badinput.MalformedPEM, badinput.NoCertificate, badinput.ChainTooLong, badinput.NoPrivateKey,
				badinput.EncryptedPrivateKey, badinput.UnsupportedKeyType, badinput.KeyCertificateMismatch)
			if kp != nil {
				t.Fatal("key pair returned with an error")
			}
			return
		}
		checkKey(t, kp.Key)
		if len(kp.Chain) == 0 || !publicKeyMatches(kp.Key, kp.Chain[0]) || kp.Leaf() != kp.Chain[0] {
			t.Fatal("chain[0] is not the certificate of the key")
		}
		// The chain is a permutation of tls.crt.
		certs, err := ParseChain(certPEM)
		if err != nil {
			t.Fatalf("ParseKeyPair accepted what ParseChain refuses: %v", err)
		}
		a, b := raws(certs), raws(kp.Chain)
		slices.SortFunc(a, bytes.Compare)
		slices.SortFunc(b, bytes.Compare)
		if !slices.EqualFunc(a, b, bytes.Equal) {
			t.Fatalf("chain of %d is not a permutation of the %d certificates", len(kp.Chain), len(certs))
		}
		// The leaf is followed by its issuer when tls.crt has it.
		leaf := kp.Leaf()
		hasIssuer := slices.ContainsFunc(certs, func(c *x509.Certificate) bool { return bytes.Equal(c.RawSubject, leaf.RawIssuer) })
		if !bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && hasIssuer && !bytes.Equal(kp.Chain[1].RawSubject, leaf.RawIssuer) {
			t.Fatal("the leaf is not followed by its issuer")
		}
	})
}

// checkKey asserts that key is a supported key that survives a PKCS#8
// round trip.
func checkKey(t *testing.T, key crypto.Signer) {
	t.Helper()
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
	default:
		t.Fatalf("unsupported key type %T returned", key)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("returned key cannot be encoded: %v", err)
	}
	again, err := ParsePrivateKey(pemBlock("PRIVATE KEY", der))
	if err != nil || !keyEqual(again, key) {
		t.Fatalf("PKCS#8 round trip: %v", err)
	}
}
