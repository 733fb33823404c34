package main

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

// A PKCS#12 file says how many key derivation iterations opening it takes:
// for its MAC and for each encrypted content and shrouded key bag.
// go-pkcs12 runs whatever the file asks for (2^31-1 iterations take
// minutes) and has no option to cap it, so inspect reads the counts first
// and refuses absurd ones.
const (
	// maxIterations bounds one count; Java writes 10000, OpenSSL 2048.
	maxIterations = 1_000_000
	// maxTotalIterations bounds the sum over the file.
	maxTotalIterations = 3 * maxIterations
)

var (
	oidData               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidShroudedKeyBag     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidPKCS12PBE          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1} // pbeWithSHAAnd... are its children
	oidPBES2              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidPBMAC1             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	errNotPKCS12Structure = errors.New("not a PKCS#12 (PFX) structure")
)

// The ASN.1 of RFC 7292 and RFC 8018, as far as iteration counts go.
// encoding/asn1 ignores the trailing fields of a SEQUENCE that a struct
// leaves out.
type (
	pfx struct {
		Version  int
		AuthSafe contentInfo
		MacData  macData `asn1:"optional"`
	}
	contentInfo struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
	}
	macData struct {
		Mac struct {
			Algorithm pkix.AlgorithmIdentifier
			Digest    []byte
		}
		MacSalt    []byte
		Iterations int `asn1:"optional,default:1"`
	}
	encryptedData struct {
		Version int
		Info    struct {
			ContentType asn1.ObjectIdentifier
			Algorithm   pkix.AlgorithmIdentifier
		}
	}
	safeBag struct {
		ID    asn1.ObjectIdentifier
		Value asn1.RawValue `asn1:"tag:0,explicit"`
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
	pbmac1Params struct {
		KDF, MAC pkix.AlgorithmIdentifier
	}
	pbkdf2Params struct {
		Salt       asn1.RawValue
		Iterations int
	}
)

// iterationCount is one key derivation a PKCS#12 file asks for.
type iterationCount struct {
	what string // for the message: "MAC", "encrypted content 1"...
	n    int
}

// checkPKCS12Iterations refuses a PKCS#12 file whose key derivations would
// take absurdly long, before anything derives a key.
func checkPKCS12Iterations(der []byte) error {
	counts, err := pkcs12Iterations(der)
	if err != nil {
		return fmt.Errorf("PKCS#12: %w", err)
	}
	return checkIterations(counts)
}

// checkIterations refuses a count out of 1..maxIterations, or counts that
// add up to more than maxTotalIterations.
func checkIterations(counts []iterationCount) error {
	total := 0
	for _, c := range counts {
		if c.n < 1 || c.n > maxIterations {
			return fmt.Errorf("PKCS#12: the %s asks for %d key derivation iterations; certinel opens stores with 1 to %d (Java writes 10000, OpenSSL 2048)",
				c.what, c.n, maxIterations)
		}
		if total += c.n; total > maxTotalIterations {
			return fmt.Errorf("PKCS#12: the file asks for more than %d key derivation iterations in all; certinel refuses it", maxTotalIterations)
		}
	}
	return nil
}

// pkcs12Iterations lists the iteration counts of the MAC, of every
// encrypted content and of every shrouded key bag in plain contents. It
// reads what go-pkcs12 reads; a structure it cannot read is an error,
// since it could hide a count.
func pkcs12Iterations(der []byte) ([]iterationCount, error) {
	var p pfx
	if _, err := asn1.Unmarshal(der, &p); err != nil {
		return nil, errNotPKCS12Structure
	}
	var counts []iterationCount
	if alg := p.MacData.Mac.Algorithm; len(alg.Algorithm) > 0 {
		if alg.Algorithm.Equal(oidPBMAC1) {
			c, err := pbmac1Iterations(alg)
			if err != nil {
				return nil, fmt.Errorf("MAC: %w", err)
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
	case ci.ContentType.Equal(oidEncryptedData):
		var ed encryptedData
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
			var key encryptedPrivateKeyInfo
			if _, err := asn1.Unmarshal(bag.Value.Bytes, &key); err != nil {
				return nil, fmt.Errorf("%s, bag %d: %w", what, j+1, err)
			}
			c, err := pbeIterations(key.Algorithm, fmt.Sprintf("private key of %s, bag %d,", what, j+1))
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
	case alg.Algorithm.Equal(oidPBES2):
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
		return nil, fmt.Errorf("PBMAC1 parameters: %w", err)
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
	var octets []byte
	if _, err := asn1.Unmarshal(der, &octets); err != nil {
		return err
	}
	_, err := asn1.Unmarshal(octets, v)
	return err
}

// hasParent reports whether oid is a direct child of parent.
func hasParent(oid, parent asn1.ObjectIdentifier) bool {
	return len(oid) == len(parent)+1 && oid[:len(parent)].Equal(parent)
}
