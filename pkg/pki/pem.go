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

// ParseCertificates returns the CERTIFICATE blocks of data, in order. Other
// block types are skipped (only certificates are ever copied out of a CA
// source). It fails with MalformedPEM when a block cannot be decoded as
// PEM or a CERTIFICATE block is not a valid X.509 certificate, and with
// NoCertificate when there is none.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	blocks, err := decodeBlocks(data)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, block := range blocks {
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, badinput.Errorf(badinput.MalformedPEM, "certificate %d is not valid X.509: %v", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, badinput.Errorf(badinput.NoCertificate, "no PEM CERTIFICATE block found")
	}
	return certs, nil
}

// ParsePrivateKey returns the first private key in data: PKCS#1 RSA
// ("RSA PRIVATE KEY"), SEC1 EC ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY")
// holding an RSA, ECDSA or Ed25519 key. Encrypted keys are refused with
// EncryptedPrivateKey: certinel never holds a key passphrase.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	blocks, err := decodeBlocks(data)
	if err != nil {
		return nil, err
	}
	for _, block := range blocks {
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			return nil, encrypted()
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
	return nil, badinput.Errorf(badinput.UnsupportedKeyType, "unsupported private key type %T; use RSA, ECDSA or Ed25519", key)
}

// KeyPair is a private key with its certificate chain, leaf first.
type KeyPair struct {
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// Leaf is the certificate of the private key.
func (kp *KeyPair) Leaf() *x509.Certificate { return kp.Chain[0] }

// ParseKeyPair parses tls.crt and tls.key. The certificate whose public key
// matches the private key becomes the leaf, and the chain is reordered leaf
// first, each certificate followed by the certificate that signed it;
// certificates that are not
// on that path keep their order after it. KeyCertificateMismatch when no
// certificate matches the key.
func ParseKeyPair(certPEM, keyPEM []byte) (*KeyPair, error) {
	certs, err := ParseCertificates(certPEM)
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

func orderChain(certs []*x509.Certificate, leaf int) []*x509.Certificate {
	chain := []*x509.Certificate{certs[leaf]}
	used := make([]bool, len(certs))
	used[leaf] = true
	for {
		last := chain[len(chain)-1]
		if bytes.Equal(last.RawIssuer, last.RawSubject) {
			break // self-signed: the path ends here
		}
		next := slices.IndexFunc(certs, func(c *x509.Certificate) bool {
			return bytes.Equal(c.RawSubject, last.RawIssuer) && last.CheckSignatureFrom(c) == nil
		})
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
