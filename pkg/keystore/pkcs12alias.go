package keystore

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

// go-pkcs12 writes the private key bag without a friendlyName attribute,
// so Java would name the entry "1" instead of the requested alias (see
// SSLMate/go-pkcs12#34). setKeyFriendlyName adds that attribute to the key
// bag, which go-pkcs12 keeps in an unencrypted SafeContents, and recomputes
// the MAC (RFC 7292 appendix B, or PBMAC1 per RFC 9579) over the result.

var (
	oidData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidKeyBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidFriendlyName   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidSHA1           = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidPBMAC1         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA256     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
)

type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue `asn1:"tag:0,explicit"`
	Attributes []attribute   `asn1:"set,optional"`
}

type attribute struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

type pbmac1Params struct {
	KDF    pkix.AlgorithmIdentifier
	MacAlg pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

func setKeyFriendlyName(pfxDER []byte, password, alias string) ([]byte, error) {
	var pfx pfxPDU
	if err := unmarshalAll(pfxDER, &pfx); err != nil {
		return nil, fmt.Errorf("pkcs12 alias: %w", err)
	}
	authSafeDER, err := octets(pfx.AuthSafe)
	if err != nil {
		return nil, err
	}
	var authSafe []contentInfo
	if err := unmarshalAll(authSafeDER, &authSafe); err != nil {
		return nil, fmt.Errorf("pkcs12 alias: authenticated safe: %w", err)
	}
	named := false
	for i, ci := range authSafe {
		if !ci.ContentType.Equal(oidData) {
			continue // encrypted SafeContents: certificates only
		}
		contentsDER, err := octets(ci)
		if err != nil {
			return nil, err
		}
		var bags []safeBag
		if err := unmarshalAll(contentsDER, &bags); err != nil {
			return nil, fmt.Errorf("pkcs12 alias: safe contents: %w", err)
		}
		for j := range bags {
			if bags[j].ID.Equal(oidShroudedKeyBag) || bags[j].ID.Equal(oidKeyBag) {
				if bags[j].Attributes, err = withFriendlyName(bags[j].Attributes, alias); err != nil {
					return nil, err
				}
				named = true
			}
		}
		if contentsDER, err = asn1.Marshal(bags); err != nil {
			return nil, err
		}
		if authSafe[i].Content, err = explicitOctets(contentsDER); err != nil {
			return nil, err
		}
	}
	if !named {
		return nil, errors.New("pkcs12 alias: no unencrypted private key bag")
	}
	if authSafeDER, err = asn1.Marshal(authSafe); err != nil {
		return nil, err
	}
	if pfx.AuthSafe.Content, err = explicitOctets(authSafeDER); err != nil {
		return nil, err
	}
	if pfx.MacData.Mac.Digest, err = mac(pfx.MacData, authSafeDER, password); err != nil {
		return nil, err
	}
	return asn1.Marshal(pfx)
}

func withFriendlyName(attrs []attribute, name string) ([]attribute, error) {
	bmp, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagBMPString, Bytes: bmpString(name, false)})
	if err != nil {
		return nil, err
	}
	fn := attribute{ID: oidFriendlyName, Value: asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: bmp}}
	out := []attribute{fn}
	for _, a := range attrs {
		if !a.ID.Equal(oidFriendlyName) {
			out = append(out, a)
		}
	}
	return out, nil
}

// octets returns the OCTET STRING inside a data ContentInfo's [0] content.
func octets(ci contentInfo) ([]byte, error) {
	var b []byte
	if err := unmarshalAll(ci.Content.Bytes, &b); err != nil {
		return nil, fmt.Errorf("pkcs12 alias: content: %w", err)
	}
	return b, nil
}

func explicitOctets(b []byte) (asn1.RawValue, error) {
	inner, err := asn1.Marshal(b)
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}, err
}

func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err == nil && len(rest) > 0 {
		err = errors.New("trailing data")
	}
	return err
}

// mac computes the PFX MAC over the authenticated safe with the algorithm
// and parameters already in m.
func mac(m macData, message []byte, password string) ([]byte, error) {
	alg := m.Mac.Algorithm.Algorithm
	var h func() hash.Hash
	switch {
	case alg.Equal(oidSHA1):
		h = sha1.New
	case alg.Equal(oidSHA256):
		h = sha256.New
	case alg.Equal(oidPBMAC1):
		return pbmac1(m.Mac.Algorithm.Parameters.FullBytes, message, password)
	default:
		return nil, fmt.Errorf("pkcs12 alias: unsupported MAC algorithm %v", alg)
	}
	key := pkcs12KDF(h, bmpString(password, true), m.MacSalt, 3, m.Iterations, h().Size())
	hm := hmac.New(h, key)
	hm.Write(message)
	return hm.Sum(nil), nil
}

func pbmac1(params, message []byte, password string) ([]byte, error) {
	var p pbmac1Params
	if err := unmarshalAll(params, &p); err != nil {
		return nil, fmt.Errorf("pkcs12 alias: PBMAC1 parameters: %w", err)
	}
	var kdf pbkdf2Params
	if !p.KDF.Algorithm.Equal(oidPBKDF2) || unmarshalAll(p.KDF.Parameters.FullBytes, &kdf) != nil ||
		!kdf.PRF.Algorithm.Equal(oidHMACSHA256) || !p.MacAlg.Algorithm.Equal(oidHMACSHA256) {
		return nil, errors.New("pkcs12 alias: unsupported PBMAC1 parameters")
	}
	// RFC 9579 (erratum 7974): the PBMAC1 key is derived from the UTF-8 password.
	key, err := pbkdf2.Key(sha256.New, password, kdf.Salt, kdf.Iterations, kdf.KeyLength)
	if err != nil {
		return nil, err
	}
	hm := hmac.New(sha256.New, key)
	hm.Write(message)
	return hm.Sum(nil), nil
}

// bmpString is s in UTF-16 big endian, as PKCS#12 encodes passwords and names.
func bmpString(s string, zeroTerminated bool) []byte {
	u := utf16.Encode([]rune(s))
	if zeroTerminated {
		u = append(u, 0)
	}
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c>>8), byte(c)
	}
	return b
}

// pkcs12KDF derives key material as in RFC 7292 appendix B.2.
func pkcs12KDF(h func() hash.Hash, password, salt []byte, id byte, iterations, size int) []byte {
	v := h().BlockSize()
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	D := make([]byte, v)
	for i := range D {
		D[i] = id
	}
	I := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < size {
		hh := h()
		hh.Write(D)
		hh.Write(I)
		A := hh.Sum(nil)
		for r := 1; r < iterations; r++ {
			hh.Reset()
			hh.Write(A)
			A = hh.Sum(A[:0])
		}
		out = append(out, A...)
		if len(out) >= size {
			break
		}
		B := fill(A)[:v]
		for j := 0; j < len(I); j += v {
			// I_j = (I_j + B + 1) mod 2^(8v)
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(I[j+k]) + int(B[k]) + carry
				I[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:size]
}

// KeyAlias returns the friendlyName of the private key bag of a PKCS#12
// keystore, "" when it has none. It reads only the unencrypted SafeContents
// in which go-pkcs12, OpenSSL and Java keep shrouded key bags.
func KeyAlias(pfxDER []byte) string {
	var pfx pfxPDU
	if unmarshalAll(pfxDER, &pfx) != nil {
		return ""
	}
	authSafeDER, err := octets(pfx.AuthSafe)
	var authSafe []contentInfo
	if err != nil || unmarshalAll(authSafeDER, &authSafe) != nil {
		return ""
	}
	for _, ci := range authSafe {
		if !ci.ContentType.Equal(oidData) {
			continue
		}
		der, err := octets(ci)
		var bags []safeBag
		if err != nil || unmarshalAll(der, &bags) != nil {
			continue
		}
		for _, bag := range bags {
			if !bag.ID.Equal(oidShroudedKeyBag) && !bag.ID.Equal(oidKeyBag) {
				continue
			}
			for _, a := range bag.Attributes {
				var v asn1.RawValue
				if a.ID.Equal(oidFriendlyName) && unmarshalAll(a.Value.Bytes, &v) == nil && v.Tag == asn1.TagBMPString {
					return decodeBMP(v.Bytes)
				}
			}
		}
	}
	return ""
}

func decodeBMP(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}
