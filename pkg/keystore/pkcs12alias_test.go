package keystore

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"hash"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/testpki"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPKCS12KDFKnownAnswers checks pkcs12KDF (RFC 7292 appendix B.2)
// against published vectors (Bouncy Castle's PKCS12 tests, Go's
// x/crypto/pkcs12 tests), each re-derived with OpenSSL 3:
//
//	openssl kdf -keylen N -kdfopt digest:SHA1 -kdfopt hexpass:<BMP password with terminator> \
//	    -kdfopt hexsalt:S -kdfopt iter:I -kdfopt id:ID PKCS12KDF
func TestPKCS12KDFKnownAnswers(t *testing.T) {
	sha1New := func() hash.Hash { return sha1.New() }
	sha256New := func() hash.Hash { return sha256.New() }
	tests := map[string]struct {
		h          func() hash.Hash
		password   []byte // BMPString with terminator
		salt       string
		id         byte
		iterations int
		want       string
	}{
		"BC smeg key": {sha1New, bmpString("smeg", true), "0A58CF64530D823F", 1, 1,
			"8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3"},
		"BC smeg IV": {sha1New, bmpString("smeg", true), "0A58CF64530D823F", 2, 1,
			"79993DFE048D3B76"},
		"BC queeg 1000 iterations": {sha1New, bmpString("queeg", true), "1682C0FC5B3F7EC5", 1, 1000,
			"483DD6E919D7DE2E8E648BA8F862F3FBFBDC2BCB2C02957F"},
		"BC smeg MAC key": {sha1New, bmpString("smeg", true), "3D83C0E4546AC140", 3, 1,
			"8D967D88F6CAA9D714800AB3D48051D63F73A312"},
		"x/crypto sesame": {sha1New, bmpString("sesame", true), "FFFFFFFFFFFFFFFF", 1, 2048,
			"7CD9FD3E2B3BE7691A44E3BEF0F9EA0FB9B897D4E325D9D1"},
		"x/crypto leading zero": {sha1New, []byte{0, 0}, "F37E05B518324B4B", 1, 2048,
			"00F759FF47D14DD03665D5943CB3C4A39A2555C02AED66E1"},
		"empty password, long output": {sha1New, bmpString("", true), "0102", 3, 1,
			"370C5E0D33C1D070D3E433C752A9A7E4F2F17DF5EEEBB87852664B79A00B0DBA29B949AD017D9E58"},
		"SHA-256 MAC key": {sha256New, bmpString("changeit", true), "0102030405060708", 3, 2048,
			"3C26AFFC9EC71B39E0E2754FFDB2D8653CABB0C8C012E5962CCA38075D845B5E"},
		"SHA-256, non-ASCII, odd salt, 100 bytes": {sha256New, bmpString("pässwörd🔑", true), "00112233445566778899AABBCCDDEEFF0011", 1, 3,
			"F37F913EC4F5DC1295903570722530F0652BE8D4CE9E71853661D1CAE82582CD3D0426A881E003FAF3582476021CAD0DCC0103F58BB453FE4D092C49E55ED3A1AC0096ED9BA54E8BA098CBDBDFD78A4407ED68E30132C4CC8C6ECAF167218EEF1B345166"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			want := unhex(t, tc.want)
			password := bytes.Clone(tc.password)
			salt := unhex(t, tc.salt)
			got := pkcs12KDF(tc.h, password, salt, tc.id, tc.iterations, len(want))
			if !bytes.Equal(got, want) {
				t.Errorf("got  %X\nwant %X", got, want)
			}
			if !bytes.Equal(password, tc.password) || !bytes.Equal(salt, unhex(t, tc.salt)) {
				t.Error("pkcs12KDF modified its inputs")
			}
			// A shorter output is a prefix of a longer one.
			if short := pkcs12KDF(tc.h, password, salt, tc.id, tc.iterations, len(want)/2); !bytes.Equal(short, want[:len(want)/2]) {
				t.Errorf("prefix %X, want %X", short, want[:len(want)/2])
			}
		})
	}
}

func TestBMPString(t *testing.T) {
	tests := map[string]struct {
		s          string
		terminated bool
		want       string
	}{
		"empty":                 {"", false, ""},
		"empty, terminated":     {"", true, "0000"},
		"ascii":                 {"sesame", true, "0073006500730061006d00650000"},
		"latin-1":               {"ä", false, "00e4"},
		"cyrillic":              {"ключ", false, "043a043b044e0447"},
		"outside the BMP":       {"🔑", false, "d83ddd11"},
		"outside the BMP, term": {"a🔑", true, "0061d83ddd110000"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := bmpString(tc.s, tc.terminated)
			if hex.EncodeToString(got) != tc.want {
				t.Errorf("bmpString(%q) = %x, want %s", tc.s, got, tc.want)
			}
			if !tc.terminated {
				if back := decodeBMP(got); back != tc.s {
					t.Errorf("decodeBMP = %q, want %q", back, tc.s)
				}
			}
		})
	}
}

// TestMACMatchesGoPKCS12 recomputes, with mac(), the MAC that go-pkcs12
// wrote with each profile's encoder: an independent check of pkcs12KDF
// (SHA-1 and SHA-256, id 3) and of the PBMAC1 derivation.
func TestMACMatchesGoPKCS12(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	encoders := map[annotations.Profile]*pkcs12.Encoder{
		annotations.Modern2023: pkcs12.Modern2023,
		annotations.Modern2026: pkcs12.Modern2026,
		annotations.LegacyRC2:  pkcs12.LegacyRC2,
		annotations.LegacyDES:  pkcs12.LegacyDES,
	}
	for profile, enc := range encoders {
		for _, password := range []string{"changeit", "", "pässwörd", strings.Repeat("long", 40)} {
			t.Run(string(profile)+"/"+password, func(t *testing.T) {
				ks, err := enc.Encode(f.kp.Key, f.kp.Leaf(), f.kp.Chain[1:], password)
				if err != nil {
					t.Fatal(err)
				}
				ts, err := enc.EncodeTrustStore(f.cas(), password)
				if err != nil {
					t.Fatal(err)
				}
				for name, der := range map[string][]byte{"keystore": ks, "truststore": ts} {
					var pfx pfxPDU
					if err := unmarshalAll(der, &pfx); err != nil {
						t.Fatal(err)
					}
					authSafe, err := octets(pfx.AuthSafe)
					if err != nil {
						t.Fatal(err)
					}
					got, err := mac(pfx.MacData, authSafe, password)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, pfx.MacData.Mac.Digest) {
						t.Errorf("%s: MAC %x, go-pkcs12 wrote %x", name, got, pfx.MacData.Mac.Digest)
					}
					if wrong, _ := mac(pfx.MacData, authSafe, password+"x"); bytes.Equal(wrong, pfx.MacData.Mac.Digest) {
						t.Errorf("%s: MAC does not depend on the password", name)
					}
				}
			})
		}
	}
}

func TestMACErrors(t *testing.T) {
	tests := map[string]macData{
		"unknown algorithm":              {Mac: digestInfo{Algorithm: algID(asn1.ObjectIdentifier{1, 2, 3})}},
		"PBMAC1 without parameters":      {Mac: digestInfo{Algorithm: algID(oidPBMAC1)}},
		"PBMAC1 with garbage parameters": {Mac: digestInfo{Algorithm: withParams(algID(oidPBMAC1), []byte{0x30, 0x03, 1, 2, 3})}},
		"PBMAC1 with HMAC-SHA-1": {Mac: digestInfo{Algorithm: withParams(algID(oidPBMAC1), mustMarshal(t, pbmac1Params{
			KDF:    withParams(algID(oidPBKDF2), mustMarshal(t, pbkdf2Params{Salt: []byte("salt"), Iterations: 1, KeyLength: 32, PRF: algID(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7})})),
			MacAlg: algID(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}),
		}))}},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			if got, err := mac(m, []byte("message"), "pw"); err == nil {
				t.Errorf("got MAC %x, want an error", got)
			}
		})
	}
}

func algID(oid asn1.ObjectIdentifier) (a pkix.AlgorithmIdentifier) {
	a.Algorithm = oid
	return a
}

func withParams(a pkix.AlgorithmIdentifier, der []byte) pkix.AlgorithmIdentifier {
	a.Parameters = asn1.RawValue{FullBytes: der}
	return a
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSetKeyFriendlyName(t *testing.T) {
	f := fixtureFor(t, testpki.RSA)
	for _, profile := range annotations.Profiles {
		t.Run(string(profile), func(t *testing.T) {
			enc, err := encoder(profile)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := enc.Encode(f.kp.Key, f.kp.Leaf(), f.kp.Chain[1:], "changeit")
			if err != nil {
				t.Fatal(err)
			}
			if got := KeyAlias(plain); got != "" {
				t.Fatalf("go-pkcs12 output already has alias %q; the rewrite may be obsolete", got)
			}
			named, err := setKeyFriendlyName(plain, "changeit", "first")
			if err != nil {
				t.Fatal(err)
			}
			renamed, err := setKeyFriendlyName(named, "changeit", "second")
			if err != nil {
				t.Fatal(err)
			}
			if got := KeyAlias(renamed); got != "second" {
				t.Errorf("alias after renaming %q, want second", got)
			}
			if n := countFriendlyNames(t, renamed); n != 1 {
				t.Errorf("%d friendlyName attributes on the key bag, want 1", n)
			}
			checkPKCS12Keystore(t, renamed, "changeit", "second", f.kp)

			// Only the MAC and the key bag's attributes change: the
			// encrypted certificates are kept byte for byte.
			if !bytes.Contains(renamed, encryptedSafe(t, plain)) {
				t.Error("the encrypted SafeContents was re-encoded")
			}
			// A MAC computed with another password does not verify.
			wrong, err := setKeyFriendlyName(plain, "other", "x")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := pkcs12.DecodeChain(wrong, "changeit"); err == nil {
				t.Error("a MAC made with another password verifies")
			}
		})
	}
}

func TestSetKeyFriendlyNameErrors(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	ts, err := pkcs12.Modern2023.EncodeTrustStore(f.cas(), "changeit")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := pkcs12.Modern2023.Encode(f.kp.Key, f.kp.Leaf(), nil, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"empty":                {},
		"garbage":              []byte("not DER"),
		"a certificate":        f.kp.Leaf().Raw,
		"trailing data":        append(bytes.Clone(ks), 0),
		"truncated":            ks[:len(ks)/2],
		"truststore (no key)":  ts,
		"JKS":                  mustBuild(t, annotations.JKS, f)["keystore.jks"],
		"DER of an empty SEQ.": {0x30, 0x00},
	}
	for name, der := range tests {
		t.Run(name, func(t *testing.T) {
			if out, err := setKeyFriendlyName(der, "changeit", "alias"); err == nil {
				t.Errorf("got %d bytes, want an error", len(out))
			}
			if got := KeyAlias(der); got != "" {
				t.Errorf("KeyAlias = %q, want \"\"", got)
			}
		})
	}
}

func mustBuild(t *testing.T, format annotations.Format, f *fixture) map[string][]byte {
	t.Helper()
	out, err := Build(format, Request{KeyPair: f.kp, CAs: f.cas(), Password: "changeit", Alias: "a"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func countFriendlyNames(t *testing.T, pfxDER []byte) int {
	t.Helper()
	var pfx pfxPDU
	if err := unmarshalAll(pfxDER, &pfx); err != nil {
		t.Fatal(err)
	}
	authSafeDER, _ := octets(pfx.AuthSafe)
	var authSafe []contentInfo
	if err := unmarshalAll(authSafeDER, &authSafe); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ci := range authSafe {
		if !ci.ContentType.Equal(oidData) {
			continue
		}
		der, _ := octets(ci)
		var bags []safeBag
		if err := unmarshalAll(der, &bags); err != nil {
			t.Fatal(err)
		}
		for _, b := range bags {
			for _, a := range b.Attributes {
				if a.ID.Equal(oidFriendlyName) {
					n++
				}
			}
		}
	}
	return n
}

// encryptedSafe is the DER of the first encrypted ContentInfo of a PFX.
func encryptedSafe(t *testing.T, pfxDER []byte) []byte {
	t.Helper()
	var pfx pfxPDU
	if err := unmarshalAll(pfxDER, &pfx); err != nil {
		t.Fatal(err)
	}
	authSafeDER, _ := octets(pfx.AuthSafe)
	var authSafe []asn1.RawValue
	if err := unmarshalAll(authSafeDER, &authSafe); err != nil {
		t.Fatal(err)
	}
	for _, raw := range authSafe {
		var ci contentInfo
		if _, err := asn1.Unmarshal(raw.FullBytes, &ci); err == nil && ci.ContentType.Equal(oidEncryptedData) {
			return raw.FullBytes
		}
	}
	t.Fatal("no encrypted SafeContents")
	return nil
}

func TestKeyAliasOfForeignFiles(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	// go-pkcs12's passwordless keystore keeps an unshrouded keyBag and
	// has no MAC.
	plain, err := pkcs12.Passwordless.Encode(f.kp.Key, f.kp.Leaf(), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := KeyAlias(plain); got != "" {
		t.Errorf("KeyAlias = %q before naming", got)
	}
	// Without a MAC algorithm there is no MAC to recompute: refused.
	if _, err := setKeyFriendlyName(plain, "", "x"); err == nil {
		t.Error("a PFX without MAC was accepted; the rewrite would add an invalid MAC")
	}
}
