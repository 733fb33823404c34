// Package pki parses and validates the PEM data of TLS Secrets: certificate
// chains, private keys in every form issuers write them, and key pairs.
// It has no client and no side effects.
package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"slices"

	"github.com/certinel/certinel/pkg/badinput"
)

// MaxPEMSize bounds the PEM data certinel parses from one data key. Secrets
// are limited to 1 MiB by the API server; ConfigMaps to the same.
const MaxPEMSize = 4 << 20

// MaxChain bounds the certificates of a tls.crt chain: the leaf and its
// intermediates. CAs belong in ca.crt.
const MaxChain = 10

// MaxBundle bounds the certificates of a CA bundle: ca.crt, a truststore
// source or an injected bundle.
const MaxBundle = 1000

// certLimit is how many certificates one input may hold, with the reason
// and advice of the error that refuses more.
type certLimit struct {
	max    int
	reason string
	advice string // formatted with max
}

var (
	chainLimit  = certLimit{MaxChain, badinput.ChainTooLong, "a tls.crt chain has at most %d certificates (leaf and intermediates; put CAs in ca.crt)"}
	bundleLimit = certLimit{MaxBundle, badinput.BundleTooLarge, "certinel reads at most %d per bundle; remove the certificates nobody needs"}
)

// refuse is the error for n certificates, over the limit.
func (l certLimit) refuse(n int) error {
	return badinput.Errorf(l.reason, "the PEM data has %d certificates; "+l.advice, n, l.max)
}

// ParseCertificates returns the CERTIFICATE blocks of a CA bundle (ca.crt,
// a truststore source), in order. Other block types are skipped (only
// certificates are ever copied out of a CA source). It fails with
// MalformedPEM when a block cannot be decoded as PEM or a CERTIFICATE block
// is not a valid X.509 certificate, with NoCertificate when there is none,
// and with BundleTooLarge when there are more than MaxBundle.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	return parseCertificates(data, bundleLimit)
}

// ParseChain is ParseCertificates for a tls.crt chain: more than MaxChain
// certificates is ChainTooLong.
func ParseChain(data []byte) ([]*x509.Certificate, error) {
	return parseCertificates(data, chainLimit)
}

// parseCertificates counts the CERTIFICATE blocks of data before it parses
// any, so that input over the limit costs no X.509 work.
func parseCertificates(data []byte, limit certLimit) ([]*x509.Certificate, error) {
	blocks, err := decodeBlocks(data)
	if err != nil {
		return nil, err
	}
	ders := certificateDERs(blocks)
	if len(ders) == 0 {
		return nil, badinput.Errorf(badinput.NoCertificate, "no PEM CERTIFICATE block found")
	}
	if len(ders) > limit.max {
		return nil, limit.refuse(len(ders))
	}
	certs := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return nil, badinput.Errorf(badinput.MalformedPEM, "certificate %d is not valid X.509: %v", i+1, err)
		}
	}
	return certs, nil
}

// certificateDERs is the content of the CERTIFICATE blocks, in order.
func certificateDERs(blocks []*pem.Block) [][]byte {
	var ders [][]byte
	for _, block := range blocks {
		if block.Type == "CERTIFICATE" {
			ders = append(ders, block.Bytes)
		}
	}
	return ders
}

// ParsePrivateKey returns the first private key in data: PKCS#1 RSA
// ("RSA PRIVATE KEY"), SEC1 EC ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY")
// holding an RSA, ECDSA or Ed25519 key. Encrypted keys are refused with
// EncryptedPrivateKey: certinel never holds a key passphrase. Keys of
// other algorithms (DSA, Ed448, X25519, X448...) are UnsupportedKeyType.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	blocks, err := decodeBlocks(data)
	if err != nil {
		return nil, err
	}
	for _, block := range blocks {
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			return nil, encrypted()
		case "DSA PRIVATE KEY":
			// Encrypted or not: decrypting it would not make it usable.
			return nil, unsupportedKey("DSA")
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
			if _, ok := block.Headers["DEK-Info"]; ok || block.Headers["Proc-Type"] == "4,ENCRYPTED" {
				return nil, encrypted()
			}
			return parseKeyBlock(block)
		}
	}
	return nil, badinput.Errorf(badinput.NoPrivateKey, "no PEM private key block found")
}

// decodeBlocks returns every PEM block of data. pem.Decode silently skips a
// block it cannot decode when a good one follows, which would drop an
// intermediate from a chain unnoticed; any skipped or trailing BEGIN line is
// MalformedPEM instead.
func decodeBlocks(data []byte) ([]*pem.Block, error) {
	if len(data) > MaxPEMSize {
		return nil, badinput.Errorf(badinput.MalformedPEM, "PEM data is %d bytes, over the %d limit", len(data), MaxPEMSize)
	}
	var blocks []*pem.Block
	rest := data
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			break
		}
		if bytes.Count(rest[:len(rest)-len(next)], []byte("-----BEGIN")) > 1 {
			return nil, badinput.Errorf(badinput.MalformedPEM, "PEM block %d is corrupt", len(blocks)+1)
		}
		blocks = append(blocks, block)
		rest = next
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		return nil, badinput.Errorf(badinput.MalformedPEM, "PEM data is truncated or corrupt after %d block(s)", len(blocks))
	}
	return blocks, nil
}

func encrypted() error {
	return badinput.Errorf(badinput.EncryptedPrivateKey, "the private key is encrypted; store it unencrypted in the Secret (cert-manager does) and protect the Secret with RBAC")
}

// parseKeyBlock parses an unencrypted key block of a type ParsePrivateKey
// accepts.
func parseKeyBlock(block *pem.Block) (crypto.Signer, error) {
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			// Go parses no DSA, Ed448 or X448 key: name it if that is why.
			if name, ok := unsupportedPKCS8Algorithm(block.Bytes); ok {
				return nil, unsupportedKey(name)
			}
		}
	}
	if err != nil {
		return nil, badinput.Errorf(badinput.MalformedPEM, "%s block cannot be parsed: %v", block.Type, err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, unsupportedKey(keyTypeName(key))
}

// KeyPair is a private key with its certificate chain, leaf first.
type KeyPair struct {
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// Leaf is the certificate of the private key.
func (kp *KeyPair) Leaf() *x509.Certificate { return kp.Chain[0] }

// ParseKeyPair parses tls.crt and tls.key. tls.crt is a chain (ParseChain:
// at most MaxChain certificates). The certificate whose public key matches
// the private key becomes the leaf, and the chain is reordered leaf first,
// each certificate followed by the certificate that signed it; certificates
// that are not on that path keep their order after it.
// KeyCertificateMismatch when no certificate matches the key.
func ParseKeyPair(certPEM, keyPEM []byte) (*KeyPair, error) {
	certs, err := ParseChain(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, err
	}
	leaf := slices.IndexFunc(certs, func(c *x509.Certificate) bool { return publicKeyMatches(key, c) })
	if leaf < 0 {
		return nil, badinput.Errorf(badinput.KeyCertificateMismatch,
			"tls.key does not match any certificate in tls.crt (first is %q); put the key of the certificate in tls.key", certs[0].Subject.String())
	}
	return &KeyPair{Key: key, Chain: orderChain(certs, leaf)}, nil
}

type publicKeyEqualer interface{ Equal(crypto.PublicKey) bool }

func publicKeyMatches(key crypto.Signer, cert *x509.Certificate) bool {
	pub, ok := key.Public().(publicKeyEqualer)
	return ok && pub.Equal(cert.PublicKey)
}

// orderChain puts certs[leaf] first, then the certificate that signed it,
// and so on, until a self-signed certificate, a missing issuer or a cycle.
// The issuer of a certificate is the first one, in input order, whose
// subject is its issuer and whose key verifies its signature. The
// certificates that are not on that path follow in their input order.
//
// Issuers are looked up by subject, so the walk costs one map lookup per
// step and signature checks only on certificates of the right subject.
func orderChain(certs []*x509.Certificate, leaf int) []*x509.Certificate {
	bySubject := indexBySubject(certs)
	chain := []*x509.Certificate{certs[leaf]}
	used := make([]bool, len(certs))
	used[leaf] = true
	for {
		last := chain[len(chain)-1]
		if bytes.Equal(last.RawIssuer, last.RawSubject) {
			break // self-signed: the path ends here
		}
		next := issuerOf(last, certs, bySubject[string(last.RawIssuer)])
		if next < 0 || used[next] {
			break
		}
		used[next] = true
		chain = append(chain, certs[next])
	}
	for i, c := range certs {
		if !used[i] {
			chain = append(chain, c)
		}
	}
	return chain
}

// indexBySubject maps each raw subject to the indexes of the certificates
// that have it, in increasing order.
func indexBySubject(certs []*x509.Certificate) map[string][]int {
	m := make(map[string][]int, len(certs))
	for i, c := range certs {
		m[string(c.RawSubject)] = append(m[string(c.RawSubject)], i)
	}
	return m
}

// issuerOf returns the first of candidates (indexes into certs) whose key
// signed c, or -1. A candidate whose subject key identifier is c's
// authority key identifier is taken without checking the signature (the
// order of a keystore's chain is not a trust decision, and a verification
// costs more than the rest of a keystore); one whose identifier differs is
// not c's issuer. Without identifiers, the signature decides.
func issuerOf(c *x509.Certificate, certs []*x509.Certificate, candidates []int) int {
	for _, i := range candidates {
		switch aki, ski := c.AuthorityKeyId, certs[i].SubjectKeyId; {
		case len(aki) > 0 && len(ski) > 0 && bytes.Equal(aki, ski):
			return i
		case len(aki) > 0 && len(ski) > 0:
			continue
		case c.CheckSignatureFrom(certs[i]) == nil:
			return i
		}
	}
	return -1
}

// Fingerprint is the SHA-256 of a certificate's DER encoding.
func Fingerprint(c *x509.Certificate) [32]byte { return sha256.Sum256(c.Raw) }

// UniqueSorted returns certs without duplicates (same DER), ordered by
// fingerprint, so that the result does not depend on input order.
func UniqueSorted(certs []*x509.Certificate) []*x509.Certificate {
	out := slices.Clone(certs)
	slices.SortFunc(out, func(a, b *x509.Certificate) int {
		fa, fb := Fingerprint(a), Fingerprint(b)
		return bytes.Compare(fa[:], fb[:])
	})
	return slices.CompactFunc(out, func(a, b *x509.Certificate) bool { return bytes.Equal(a.Raw, b.Raw) })
}
