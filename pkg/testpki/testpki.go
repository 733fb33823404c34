// Package testpki generates keys, certificates and their PEM encodings for
// the tests of certinel's packages (pkg/..., controllers, cmd/certinel).
//
// It is a test helper package: import it only from _test.go files, never
// from code that is built into certinel.
//
// RSA keys are slow to generate, so Key caches every key it makes: the same
// (type, index) always returns the same key within a test binary, and
// different indexes return different keys. NewKey makes a key no other call
// returns, for fixtures that must not share keys with anything else.
package testpki

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certinel/certinel/pkg/badinput"
)

// KeyType is the algorithm of a generated key.
type KeyType string

const (
	RSA     KeyType = "rsa"     // RSA 2048
	ECDSA   KeyType = "ecdsa"   // ECDSA P-256
	Ed25519 KeyType = "ed25519" // Ed25519
)

// KeyTypes lists every KeyType.
var KeyTypes = []KeyType{RSA, ECDSA, Ed25519}

type keyID struct {
	t KeyType
	n int
}

var keys = struct {
	sync.Mutex
	m map[keyID]crypto.Signer
}{m: map[keyID]crypto.Signer{}}

// Key returns the n-th key of type t, generating it on first use.
func Key(tb testing.TB, t KeyType, n int) crypto.Signer {
	tb.Helper()
	keys.Lock()
	defer keys.Unlock()
	id := keyID{t, n}
	if k, ok := keys.m[id]; ok {
		return k
	}
	k := NewKey(tb, t)
	keys.m[id] = k
	return k
}

// NewKey generates a key of type t without caching it: every call returns a
// different key.
func NewKey(tb testing.TB, t KeyType) crypto.Signer {
	tb.Helper()
	var k crypto.Signer
	var err error
	switch t {
	case RSA:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case ECDSA:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case Ed25519:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		err = fmt.Errorf("unknown key type %q", t)
	}
	if err != nil {
		tb.Fatalf("generate %s key: %v", t, err)
	}
	return k
}

// Cert is a certificate with its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PEM is the certificate as a PEM CERTIFICATE block.
func (c *Cert) PEM() []byte { return CertsPEM(c.Cert) }

// Template describes a certificate to issue. Zero fields get defaults.
type Template struct {
	CommonName     string
	DNSNames       []string
	IPAddresses    []net.IP
	EmailAddresses []string
	URIs           []*url.URL
	IsCA           bool
	// NoBasicConstraints leaves out the basic constraints extension.
	NoBasicConstraints bool
	// NotBefore defaults to one hour ago (whole seconds), NotAfter to 90
	// days after NotBefore.
	NotBefore, NotAfter time.Time
	KeyUsage            x509.KeyUsage
	ExtKeyUsage         []x509.ExtKeyUsage
	// Serial defaults to a random 128-bit number.
	Serial *big.Int
	// Key is the subject key; required.
	Key crypto.Signer
}

// Issue signs t with issuer, or self-signs it when issuer is nil.
func Issue(tb testing.TB, t Template, issuer *Cert) *Cert {
	tb.Helper()
	if t.Key == nil {
		tb.Fatal("testpki.Issue: Template.Key is required")
	}
	serial := t.Serial
	if serial == nil {
		var err error
		if serial, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128)); err != nil {
			tb.Fatal(err)
		}
	}
	notBefore := t.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	notAfter := t.NotAfter
	if notAfter.IsZero() {
		notAfter = notBefore.Add(90 * 24 * time.Hour)
	}
	ku := t.KeyUsage
	if ku == 0 {
		ku = x509.KeyUsageDigitalSignature
		if t.IsCA {
			ku |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: t.CommonName, Organization: []string{"certinel tests"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              ku,
		ExtKeyUsage:           t.ExtKeyUsage,
		BasicConstraintsValid: !t.NoBasicConstraints,
		IsCA:                  t.IsCA,
		DNSNames:              t.DNSNames,
		IPAddresses:           t.IPAddresses,
		EmailAddresses:        t.EmailAddresses,
		URIs:                  t.URIs,
	}
	parent, signer := tmpl, t.Key
	if issuer != nil {
		parent, signer = issuer.Cert, issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, t.Key.Public(), signer)
	if err != nil {
		tb.Fatalf("create certificate %q: %v", t.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parse certificate %q: %v", t.CommonName, err)
	}
	return &Cert{Cert: cert, Key: t.Key}
}

// Chain is a root CA, an intermediate CA it signed, and a leaf the
// intermediate signed.
type Chain struct {
	Root, Intermediate, Leaf *Cert
}

// NewChain issues a chain whose leaf has leafKey. The CAs get ECDSA keys
// (fast to make); use NewChainWithKeys to choose them.
func NewChain(tb testing.TB, name string, leafKey crypto.Signer) *Chain {
	tb.Helper()
	return NewChainWithKeys(tb, name, Key(tb, ECDSA, 1000), Key(tb, ECDSA, 1001), leafKey)
}

// NewChainWithKeys issues a chain with the given keys. name prefixes the
// common names, so chains of different names have different subjects.
func NewChainWithKeys(tb testing.TB, name string, rootKey, intermediateKey, leafKey crypto.Signer) *Chain {
	tb.Helper()
	root := Issue(tb, Template{CommonName: name + " Root CA", IsCA: true, Key: rootKey}, nil)
	intermediate := Issue(tb, Template{CommonName: name + " Intermediate CA", IsCA: true, Key: intermediateKey}, root)
	leaf := Issue(tb, Template{
		CommonName:  name + ".example.com",
		DNSNames:    []string{name + ".example.com"},
		Key:         leafKey,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, intermediate)
	return &Chain{Root: root, Intermediate: intermediate, Leaf: leaf}
}

// Certs is the chain leaf first.
func (c *Chain) Certs() []*x509.Certificate {
	return []*x509.Certificate{c.Leaf.Cert, c.Intermediate.Cert, c.Root.Cert}
}

// CertsPEM concatenates CERTIFICATE blocks for certs, in order.
func CertsPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// Join concatenates PEM documents.
func Join(docs ...[]byte) []byte {
	var out []byte
	for _, d := range docs {
		out = append(out, d...)
	}
	return out
}

// PKCS1PEM is an "RSA PRIVATE KEY" block.
func PKCS1PEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// SEC1PEM is an "EC PRIVATE KEY" block.
func SEC1PEM(tb testing.TB, k *ecdsa.PrivateKey) []byte {
	tb.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// PKCS8PEM is a "PRIVATE KEY" block.
func PKCS8PEM(tb testing.TB, k crypto.Signer) []byte {
	tb.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: PKCS8DER(tb, k)})
}

// PKCS8DER is the PKCS#8 encoding of k.
func PKCS8DER(tb testing.TB, k crypto.Signer) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// KeyPEM is k in the form issuers usually write it: PKCS#1 for RSA, SEC1
// for ECDSA, PKCS#8 for Ed25519.
func KeyPEM(tb testing.TB, k crypto.Signer) []byte {
	tb.Helper()
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return PKCS1PEM(k)
	case *ecdsa.PrivateKey:
		return SEC1PEM(tb, k)
	}
	return PKCS8PEM(tb, k)
}

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// EncryptedPKCS8PEM is k as an "ENCRYPTED PRIVATE KEY" block (PKCS#8
// EncryptedPrivateKeyInfo, PBES2 with PBKDF2-HMAC-SHA-256 and AES-256-CBC),
// as `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes it.
func EncryptedPKCS8PEM(tb testing.TB, k crypto.Signer, password string) []byte {
	tb.Helper()
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(iv)
	const iterations = 2048
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		tb.Fatal(err)
	}
	plain := PKCS8DER(tb, k)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	for range pad {
		plain = append(plain, byte(pad))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)

	type algorithm struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}
	raw := func(v any) asn1.RawValue {
		der, err := asn1.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return asn1.RawValue{FullBytes: der}
	}
	kdf := algorithm{oidPBKDF2, raw(struct {
		Salt       []byte
		Iterations int
		KeyLength  int
		PRF        algorithm
	}{salt, iterations, 32, algorithm{oidHMACSHA256, asn1.NullRawValue}})}
	params := raw(struct{ KDF, Enc algorithm }{kdf, algorithm{oidAES256CBC, raw(iv)}})
	der, err := asn1.Marshal(struct {
		Algorithm algorithm
		Data      []byte
	}{algorithm{oidPBES2, params}, enc})
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

// LegacyEncryptedPEM is k in its KeyPEM form (PKCS#1 for RSA, SEC1 for
// ECDSA, PKCS#8 for Ed25519) encrypted with AES-256 the legacy OpenSSL way
// (Proc-Type: 4,ENCRYPTED and DEK-Info headers).
func LegacyEncryptedPEM(tb testing.TB, k crypto.Signer, password string) []byte {
	tb.Helper()
	plain, _ := pem.Decode(KeyPEM(tb, k))
	//nolint:staticcheck // producing the insecure legacy format is the point
	block, err := x509.EncryptPEMBlock(rand.Reader, plain.Type, plain.Bytes, []byte(password), x509.PEMCipherAES256)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}

// RequireReason fails tb unless err is a *badinput.Error with reason.
func RequireReason(tb testing.TB, err error, reason string) *badinput.Error {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want a *badinput.Error with reason %s", reason)
	}
	e, ok := badinput.As(err)
	if !ok {
		tb.Fatalf("got error %T %q, want a *badinput.Error with reason %s", err, err, reason)
	}
	if e.Reason != reason {
		tb.Fatalf("got reason %s (%q), want %s", e.Reason, e.Message, reason)
	}
	if e.Message == "" {
		tb.Fatalf("reason %s has an empty message", reason)
	}
	return e
}

// CRLF rewrites data with CRLF line endings.
func CRLF(data []byte) []byte { return bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")) }

// Rewrap re-encodes every PEM block of data with base64 lines of width n,
// with text before the first block and blank lines between blocks, as
// openssl and other tools write PEM. Text outside blocks is dropped.
func Rewrap(tb testing.TB, data []byte, n int) []byte {
	tb.Helper()
	var out bytes.Buffer
	out.WriteString("Bag Attributes\n    friendlyName: test\n")
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		lines := strings.Split(strings.TrimSpace(string(pem.EncodeToMemory(b))), "\n")
		body := strings.Join(lines[1:len(lines)-1], "")
		out.WriteString("\n" + lines[0] + "\n")
		for len(body) > n {
			out.WriteString(body[:n] + "\n")
			body = body[n:]
		}
		out.WriteString(body + "\n" + lines[len(lines)-1] + "\n\n")
	}
	if out.Len() == 0 {
		tb.Fatal("testpki.Rewrap: no PEM block")
	}
	return out.Bytes()
}

// SameCerts reports whether a and b hold the same certificates in the same order.
func SameCerts(a, b []*x509.Certificate) bool {
	return slices.EqualFunc(a, b, func(x, y *x509.Certificate) bool { return bytes.Equal(x.Raw, y.Raw) })
}

// CommonNames lists the subject common names of certs, for failure messages.
func CommonNames(certs []*x509.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = c.Subject.CommonName
	}
	return out
}

// DSAKeyPEM is a PKCS#8 DSA private key (openssl genpkey -algorithm DSA),
// which certinel does not support.
const DSAKeyPEM = `-----BEGIN PRIVATE KEY-----
MIIBSgIBADCCASsGByqGSM44BAEwggEeAoGBAILxqogCNENAMCcJnsKPiVd3VZGr
IJe4c/kUZX/bMTJxXp5wbaY+NM4XH8FtAcbRMhYZAYIg86NraZjYawqPRoJGEe7u
NrZkaMDHeuXecUbExcnI5UNx8swldAbBoMc61zlzembSR0GVZlY5ciiwukWvxj3P
vm6wwGb1R01VF8BrAhUAqSk+G/0m45LIjCPC3g4NVfaSTQ0CgYBGPiAjfYOFbp/4
TVn7HQPZzd9UzwpTik45XZFWkm6DUkn4dKOgQ/qb+qdLPBKpMajN9NU75zEiAIUp
aTtA+9ZCDUucadWjrlmBjGAuHPReBYg12DY+gDpWIMGjWyHxVDJazh1TSaf41tW+
kIcmKPnv/4Akt12lTEctBUTUlABi6gQWAhRjVfdKSBsMQKoXXfI41Nz3qwF/kw==
-----END PRIVATE KEY-----
`

// ManyCAs issues n self-signed CA certificates sharing one key, the i-th
// with common name name(i), cheaply enough for bundles of a thousand.
func ManyCAs(tb testing.TB, n int, name func(i int) string) []*x509.Certificate {
	tb.Helper()
	key := NewKey(tb, ECDSA)
	out := make([]*x509.Certificate, n)
	for i := range out {
		out[i] = Issue(tb, Template{CommonName: name(i), IsCA: true, KeyUsage: x509.KeyUsageCertSign, Key: key}, nil).Cert
	}
	return out
}

// Numbered names "prefix 0", "prefix 1", ... for ManyCAs.
func Numbered(prefix string) func(int) string {
	return func(i int) string { return fmt.Sprintf("%s %d", prefix, i) }
}
