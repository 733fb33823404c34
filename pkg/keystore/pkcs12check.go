package keystore

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

// A PKCS#12 file says how many key derivation iterations opening it takes:
// for its MAC and for each encrypted content and shrouded key bag.
// go-pkcs12 runs whatever the file asks for (2^31-1 iterations take
// minutes) and has no option to cap it, so CheckPKCS12 reads the counts
// first and refuses absurd ones.
const (
	// MaxPKCS12Iterations bounds one count; Java writes 10000, OpenSSL 2048.
	MaxPKCS12Iterations = 1_000_000
	// MaxPKCS12TotalIterations bounds the sum of the counts of a file.
	MaxPKCS12TotalIterations = 3 * MaxPKCS12Iterations
)

// The OIDs and ASN.1 of RFC 7292 and RFC 8018 that pkcs12alias.go does not
// declare already, as far as iteration counts go. encoding/asn1 ignores
// the trailing fields of a SEQUENCE that a struct leaves out.
var (
	oidEncryptedDataContent = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidPKCS12PBE            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1} // pbeWithSHAAnd... are its children
	oidPBES2Scheme          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	errNotPKCS12Structure   = errors.New("not a PKCS#12 (PFX) structure")
)

type (
	encryptedDataAlgorithm struct {
		Version int
		Info    struct {
			ContentType asn1.ObjectIdentifier
			Algorithm   pkix.AlgorithmIdentifier
		}
	}
	encryptedPrivateKeyInfo struct {
		Algorithm pkix.AlgorithmIdentifier
	}
	pbeParams struct {
		Salt       []byte
		Iterations int
	}
	pbes2Params struct {
		KDF, Scheme pkix.AlgorithmIdentifier
	}
)

// iterationCount is one key derivation a PKCS#12 file asks for.
type iterationCount struct {
	what string // for the message: "MAC", "encrypted content 1"...
	n    int
}

// CheckPKCS12 reads the key derivation iteration counts of a PKCS#12 file
// (DER) without deriving anything and reports an error when one is out of
// 1..MaxPKCS12Iterations, when they add up to more than
// MaxPKCS12TotalIterations, or when a structure that could hide a count
// does not parse. After it, the work of go-pkcs12's key derivations grows
// with those caps, not with what a hostile file asks for; the one count it
// cannot see is that of a shrouded key bag inside an encrypted content,
// which go-pkcs12 does not write and which no one can read before
// decrypting.
func CheckPKCS12(der []byte) error {
	counts, err := pkcs12Iterations(der)
	if err != nil {
		return fmt.Errorf("PKCS#12: %w", err)
	}
	return checkIterations(counts)
}

// checkIterations refuses a count out of 1..MaxPKCS12Iterations, or counts
// that add up to more than MaxPKCS12TotalIterations.
func checkIterations(counts []iterationCount) error {
	total := 0
	for _, c := range counts {
		if c.n < 1 || c.n > MaxPKCS12Iterations {
			return fmt.Errorf("PKCS#12: the %s asks for %d key derivation iterations; certinel opens stores with 1 to %d (Java writes 10000, OpenSSL 2048)",
				c.what, c.n, MaxPKCS12Iterations)
		}
		if total += c.n; total > MaxPKCS12TotalIterations {
			return fmt.Errorf("PKCS#12: the file asks for more than %d key derivation iterations in all; certinel refuses it", MaxPKCS12TotalIterations)
		}
	}
	return nil
}

// pkcs12Iterations lists the iteration counts of the MAC, of every
// encrypted content and of every shrouded key bag in plain contents. It
// reads what go-pkcs12 reads; a structure it cannot read is an error,
// since it could hide a count.
func pkcs12Iterations(der []byte) ([]iterationCount, error) {
	var p pfxPDU
	if _, err := asn1.Unmarshal(der, &p); err != nil {
		return nil, errNotPKCS12Structure
	}
	var counts []iterationCount
	if alg := p.MacData.Mac.Algorithm; len(alg.Algorithm) > 0 {
		if alg.Algorithm.Equal(oidPBMAC1) {
			c, err := pbmac1Iterations(alg)
			if err != nil {
				return nil, err
			}
			counts = append(counts, c...)
		} else {
			counts = append(counts, iterationCount{"MAC", p.MacData.Iterations})
		}
	}
	if !p.AuthSafe.ContentType.Equal(oidData) {
		return counts, nil // go-pkcs12 opens only password-protected (data) PFX
	}
	var safes []contentInfo
	if err := unmarshalOctets(p.AuthSafe.Content.Bytes, &safes); err != nil {
		return nil, fmt.Errorf("authenticated safe: %w", err)
	}
	for i, ci := range safes {
		c, err := contentIterations(ci, fmt.Sprintf("content %d", i+1))
		if err != nil {
			return nil, err
		}
		counts = append(counts, c...)
	}
	return counts, nil
}

// contentIterations lists the counts of one content of the authenticated
// safe: its encryption, or the shrouded key bags of a plain one.
func contentIterations(ci contentInfo, what string) ([]iterationCount, error) {
	switch {
	case ci.ContentType.Equal(oidEncryptedDataContent):
		var ed encryptedDataAlgorithm
		if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return pbeIterations(ed.Info.Algorithm, "encrypted "+what)
	case ci.ContentType.Equal(oidData):
		var bags []safeBag
		if err := unmarshalOctets(ci.Content.Bytes, &bags); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		var counts []iterationCount
		for j, bag := range bags {
			if !bag.ID.Equal(oidShroudedKeyBag) {
				continue
			}
			where := fmt.Sprintf("private key (%s, bag %d)", what, j+1)
			var key encryptedPrivateKeyInfo
			if _, err := asn1.Unmarshal(bag.Value.Bytes, &key); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			c, err := pbeIterations(key.Algorithm, where)
			if err != nil {
				return nil, err
			}
			counts = append(counts, c...)
		}
		return counts, nil
	}
	return nil, nil // go-pkcs12 refuses other content types
}

// pbeIterations is the count of a password-based encryption: PKCS#12 PBE
// or PBES2 with PBKDF2. Other schemes go-pkcs12 refuses without deriving.
func pbeIterations(alg pkix.AlgorithmIdentifier, what string) ([]iterationCount, error) {
	switch {
	case hasParent(alg.Algorithm, oidPKCS12PBE):
		var p pbeParams
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("%s: PBE parameters: %w", what, err)
		}
		return []iterationCount{{what, p.Iterations}}, nil
	case alg.Algorithm.Equal(oidPBES2Scheme):
		var p pbes2Params
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("%s: PBES2 parameters: %w", what, err)
		}
		return pbkdf2Iterations(p.KDF, what)
	}
	return nil, nil
}

// pbmac1Iterations is the count of a PBMAC1 MAC (RFC 9579), which replaces
// the iterations field of the MAC data.
func pbmac1Iterations(alg pkix.AlgorithmIdentifier) ([]iterationCount, error) {
	var p pbmac1Params
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
		return nil, fmt.Errorf("MAC: PBMAC1 parameters: %w", err)
	}
	return pbkdf2Iterations(p.KDF, "MAC")
}

func pbkdf2Iterations(kdf pkix.AlgorithmIdentifier, what string) ([]iterationCount, error) {
	if !kdf.Algorithm.Equal(oidPBKDF2) {
		return nil, nil // go-pkcs12 supports no other KDF
	}
	var p pbkdf2Params
	if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
		return nil, fmt.Errorf("%s: PBKDF2 parameters: %w", what, err)
	}
	return []iterationCount{{what, p.Iterations}}, nil
}

// unmarshalOctets decodes the DER inside an OCTET STRING into v.
func unmarshalOctets(der []byte, v any) error {
	var inner []byte
	if _, err := asn1.Unmarshal(der, &inner); err != nil {
		return err
	}
	_, err := asn1.Unmarshal(inner, v)
	return err
}

// hasParent reports whether oid is a direct child of parent.
func hasParent(oid, parent asn1.ObjectIdentifier) bool {
	return len(oid) == len(parent)+1 && oid[:len(parent)].Equal(parent)
}
