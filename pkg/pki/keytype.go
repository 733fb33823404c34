package pki

import (
	"crypto/ecdh"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"github.com/certinel/certinel/pkg/badinput"
)

// PKCS#8 algorithm identifiers of the keys certinel supports.
var (
	oidRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// unsupportedAlgorithms names the PKCS#8 algorithms that issuers and
// openssl genpkey write but certinel (and Java's TLS) cannot use.
var unsupportedAlgorithms = map[string]string{
	"1.2.840.10040.4.1": "DSA",
	"1.3.101.110":       "X25519",
	"1.3.101.111":       "X448",
	"1.3.101.113":       "Ed448",
}

// privateKeyInfo is the start of a PKCS#8 PrivateKeyInfo (RFC 5208), or of
// a OneAsymmetricKey (RFC 5958), whose further fields encoding/asn1 skips.
type privateKeyInfo struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// unsupportedPKCS8Algorithm names the algorithm of a well-formed PKCS#8
// key that is not RSA, ECDSA or Ed25519. ok is false when der is not a
// PrivateKeyInfo, or holds one of those algorithms (a malformed key then).
func unsupportedPKCS8Algorithm(der []byte) (name string, ok bool) {
	var info privateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return "", false
	}
	oid := info.Algorithm.Algorithm
	if name, ok := unsupportedAlgorithms[oid.String()]; ok {
		return name, true
	}
	if oid.Equal(oidRSA) || oid.Equal(oidECKey) || oid.Equal(oidEd25519) {
		return "", false
	}
	return "with algorithm OID " + oid.String(), true
}

// keyTypeName names a parsed key for a message: Go parses X25519 keys into
// *ecdh.PrivateKey, which is no signing key.
func keyTypeName(key any) string {
	if k, ok := key.(*ecdh.PrivateKey); ok {
		return fmt.Sprint(k.Curve())
	}
	return fmt.Sprintf("%T", key)
}

func unsupportedKey(name string) error {
	return badinput.Errorf(badinput.UnsupportedKeyType, "unsupported private key type %s; use RSA, ECDSA or Ed25519", name)
}
