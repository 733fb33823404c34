package framework

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// KeyEncoding is how the private key is written to tls.key.
type KeyEncoding string

const (
	PKCS1 KeyEncoding = "pkcs1" // RSA PRIVATE KEY, cert-manager's default for RSA
	PKCS8 KeyEncoding = "pkcs8" // PRIVATE KEY
	SEC1  KeyEncoding = "sec1"  // EC PRIVATE KEY, cert-manager's default for ECDSA
)

// TLS is the PEM data of a cert-manager style Secret: a leaf signed by an
// intermediate signed by a root.
type TLS struct {
	Cert []byte // leaf then intermediate
	Key  []byte
	CA   []byte // root
}

// NewTLS issues a chain for the DNS names with an RSA-2048 (PKCS#1 or
// PKCS#8) or ECDSA P-256 (SEC1 or PKCS#8) leaf key.
func NewTLS(cn string, enc KeyEncoding, dnsNames ...string) (*TLS, error) {
	return NewTLSValid(cn, enc, time.Time{}, time.Time{}, dnsNames...)
}

// NewTLSValid is NewTLS with a leaf valid from notBefore to notAfter (zero:
// from an hour ago for 90 days, as NewTLS); the CAs are valid for ten years.
func NewTLSValid(cn string, enc KeyEncoding, notBefore, notAfter time.Time, dnsNames ...string) (*TLS, error) {
	caUntil := time.Now().Add(3650 * 24 * time.Hour).Truncate(time.Second)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	root, err := sign(&x509.Certificate{Subject: pkix.Name{CommonName: cn + " Root CA"}, IsCA: true, NotAfter: caUntil,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, rootKey.Public(), nil, rootKey)
	if err != nil {
		return nil, err
	}
	intKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	inter, err := sign(&x509.Certificate{Subject: pkix.Name{CommonName: cn + " Intermediate CA"}, IsCA: true, MaxPathLenZero: true, NotAfter: caUntil,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, intKey.Public(), root, rootKey)
	if err != nil {
		return nil, err
	}
	var leafKey crypto.Signer
	var keyPEM *pem.Block
	switch enc {
	case PKCS1:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		leafKey, keyPEM = k, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case SEC1:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		leafKey, keyPEM = k, &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	case PKCS8:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		leafKey, keyPEM = k, &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	default:
		return nil, fmt.Errorf("unknown key encoding %q", enc)
	}
	leaf, err := sign(&x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: dnsNames, NotBefore: notBefore, NotAfter: notAfter,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}, leafKey.Public(), inter, intKey)
	if err != nil {
		return nil, err
	}
	return &TLS{
		Cert: append(certPEM(leaf), certPEM(inter)...),
		Key:  pem.EncodeToMemory(keyPEM),
		CA:   certPEM(root),
	}, nil
}

var serial int64

func sign(tpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	serial++
	tpl.SerialNumber = big.NewInt(time.Now().UnixNano() + serial)
	if tpl.NotBefore.IsZero() {
		tpl.NotBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	if tpl.NotAfter.IsZero() {
		tpl.NotAfter = time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	}
	tpl.BasicConstraintsValid = true
	if parent == nil {
		parent = tpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// SecretYAML renders a kubernetes.io/tls Secret as cert-manager writes it,
// with optional annotations ("key: value" lines are quoted for you).
func (t *TLS) SecretYAML(namespace, name string, annotations map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: %s\n  namespace: %s\n", name, namespace)
	if len(annotations) > 0 {
		b.WriteString("  annotations:\n")
		for k, v := range annotations {
			fmt.Fprintf(&b, "    %q: %q\n", k, v)
		}
	}
	b.WriteString("data:\n")
	for _, kv := range []struct {
		k string
		v []byte
	}{{"tls.crt", t.Cert}, {"tls.key", t.Key}, {"ca.crt", t.CA}} {
		if kv.v != nil {
			fmt.Fprintf(&b, "  %s: %s\n", kv.k, base64.StdEncoding.EncodeToString(kv.v))
		}
	}
	return b.String()
}
