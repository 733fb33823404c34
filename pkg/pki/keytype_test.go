package pki

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/testpki"
)

// Keys of algorithms certinel does not support, made once with
//
//	openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 -out dsap.pem
//	openssl genpkey -paramfile dsap.pem -out dsa.pem
//	openssl pkey -in dsa.pem -traditional
//	openssl genpkey -algorithm ED448 (X25519, X448)
const (
	dsaTraditionalPEM = `-----BEGIN DSA PRIVATE KEY-----
MIIBugIBAAKBgQCC8aqIAjRDQDAnCZ7Cj4lXd1WRqyCXuHP5FGV/2zEycV6ecG2m
PjTOFx/BbQHG0TIWGQGCIPOja2mY2GsKj0aCRhHu7ja2ZGjAx3rl3nFGxMXJyOVD
cfLMJXQGwaDHOtc5c3pm0kdBlWZWOXIosLpFr8Y9z75usMBm9UdNVRfAawIVAKkp
Phv9JuOSyIwjwt4ODVX2kk0NAoGARj4gI32DhW6f+E1Z+x0D2c3fVM8KU4pOOV2R
VpJug1JJ+HSjoEP6m/qnSzwSqTGozfTVO+cxIgCFKWk7QPvWQg1LnGnVo65ZgYxg
Lhz0XgWINdg2PoA6ViDBo1sh8VQyWs4dU0mn+NbVvpCHJij57/+AJLddpUxHLQVE
1JQAYuoCgYBJkcsBiuIx6dtcigDIJKBIpzGUtJpcWHrJlzAi2Gcpag+p7L04b/P2
kQO6poXsyhlcXY8vXZ13fVgc889UdVGYStNWaJU236FvPfKheVRZsEzzH9YoTyLC
Xz3cUMm59wwxePtoF1V2OLeJoJ+BaVa4bhYwqx1l55oWe3wUGx+bPQIUY1X3Skgb
DECqF13yONTc96sBf5M=
-----END DSA PRIVATE KEY-----
`
	ed448PEM = `-----BEGIN PRIVATE KEY-----
MEcCAQAwBQYDK2VxBDsEOZIbHh2j0thY6UTFMo0xOR5nSimn2NfBm5n3wTQuOBCh
Dkgs4ZztIcrL+TxBGjLJ2RppW5Kx8ZWuQQ==
-----END PRIVATE KEY-----
`
	x25519PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VuBCIEIMB2Ry5cpWmpezkShpgLouQH3nKhiiOcaqLpLIG3RKxp
-----END PRIVATE KEY-----
`
	x448PEM = `-----BEGIN PRIVATE KEY-----
MEYCAQAwBQYDK2VvBDoEOBSGCM1TAS6+1LXI9o9Ojqb3VZ2DPcC7I74vACJkTI6O
w4LHoNRI2fY/RG7OWahJzXQ7cGpnw5CJ
-----END PRIVATE KEY-----
`
)

// pkcs8With is a PKCS#8 "PRIVATE KEY" block of algorithm oid around key,
// with extra DER appended inside the SEQUENCE (RFC 5958 fields).
func pkcs8With(t testing.TB, oid asn1.ObjectIdentifier, key []byte, extra ...asn1.RawValue) []byte {
	t.Helper()
	fields := []any{0, pkix.AlgorithmIdentifier{Algorithm: oid}, key}
	for _, e := range extra {
		fields = append(fields, e)
	}
	var body []byte
	for _, f := range fields {
		der, err := asn1.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		body = append(body, der...)
	}
	der, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func TestParsePrivateKeyUnsupportedTypes(t *testing.T) {
	octets := func(n int) []byte { b, _ := asn1.Marshal(make([]byte, n)); return b }
	publicKey := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, Bytes: make([]byte, 57)}
	tests := map[string]struct {
		data       []byte
		wantReason string
		wantName   string // named in the message
	}{
		"DSA, PKCS#8 (openssl genpkey)":     {[]byte(testpki.DSAKeyPEM), badinput.UnsupportedKeyType, "DSA"},
		"DSA PRIVATE KEY (traditional)":     {[]byte(dsaTraditionalPEM), badinput.UnsupportedKeyType, "DSA"},
		"DSA PRIVATE KEY, legacy encrypted": {withHeaders([]byte(dsaTraditionalPEM), map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}), badinput.UnsupportedKeyType, "DSA"},
		"DSA PRIVATE KEY of garbage":        {garbageBlock("DSA PRIVATE KEY"), badinput.UnsupportedKeyType, "DSA"},
		"Ed448 (openssl genpkey)":           {[]byte(ed448PEM), badinput.UnsupportedKeyType, "Ed448"},
		"X25519 (openssl genpkey)":          {[]byte(x25519PEM), badinput.UnsupportedKeyType, "X25519"},
		"X25519 (Go)":                       {x25519PKCS8PEM(t), badinput.UnsupportedKeyType, "X25519"},
		"X448 (openssl genpkey)":            {[]byte(x448PEM), badinput.UnsupportedKeyType, "X448"},
		"Ed448 with a public key (v1)":      {pkcs8With(t, asn1.ObjectIdentifier{1, 3, 101, 113}, octets(59), publicKey), badinput.UnsupportedKeyType, "Ed448"},
		"DSA OID, any key":                  {pkcs8With(t, asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}, []byte{2, 1, 1}), badinput.UnsupportedKeyType, "DSA"},
		"unknown algorithm":                 {pkcs8With(t, asn1.ObjectIdentifier{1, 2, 3, 4}, octets(32)), badinput.UnsupportedKeyType, "with algorithm OID 1.2.3.4"},
		"DSA first, a good key after":       {testpki.Join([]byte(dsaTraditionalPEM), testpki.SEC1PEM(t, ecKey(t))), badinput.UnsupportedKeyType, "DSA"},
		// A supported algorithm whose key is garbage is malformed, not unsupported.
		"RSA OID, garbage key":     {pkcs8With(t, oidRSA, []byte("garbage")), badinput.MalformedPEM, ""},
		"EC OID, garbage key":      {pkcs8With(t, oidECKey, []byte("garbage")), badinput.MalformedPEM, ""},
		"Ed25519 OID, short key":   {pkcs8With(t, oidEd25519, octets(5)), badinput.MalformedPEM, ""},
		"Ed448 with trailing data": {pemBlock("PRIVATE KEY", append(pemDER(t, ed448PEM), 0, 0)), badinput.MalformedPEM, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			key, err := ParsePrivateKey(tc.data)
			e := testpki.RequireReason(t, err, tc.wantReason)
			if key != nil {
				t.Errorf("on error got key %T", key)
			}
			if tc.wantReason != badinput.UnsupportedKeyType {
				return
			}
			want := "unsupported private key type " + tc.wantName + "; use RSA, ECDSA or Ed25519"
			if e.Message != want {
				t.Errorf("message %q, want %q", e.Message, want)
			}
		})
	}
}

// An unsupported key in tls.key is refused before the chain is matched.
func TestParseKeyPairUnsupportedKey(t *testing.T) {
	certs := testpki.CertsPEM(chainFor(t, testpki.ECDSA).Certs()...)
	for name, key := range map[string]string{"DSA": testpki.DSAKeyPEM, "Ed448": ed448PEM, "X448": x448PEM} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseKeyPair(certs, []byte(key))
			if e := testpki.RequireReason(t, err, badinput.UnsupportedKeyType); !strings.Contains(e.Message, name) {
				t.Errorf("message %q does not name %s", e.Message, name)
			}
		})
	}
}

func pemDER(t *testing.T, s string) []byte {
	t.Helper()
	blocks, err := decodeBlocks([]byte(s))
	if err != nil || len(blocks) != 1 {
		t.Fatalf("%d blocks, %v", len(blocks), err)
	}
	return blocks[0].Bytes
}
