package keystore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"hash"
	"sync"
	"testing"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"

	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/testpki"
)

// fixture is a key pair with a three-certificate chain, and CA
// certificates for the truststore.
type fixture struct {
	chain *testpki.Chain
	kp    *pki.KeyPair
	// certPEM and keyPEM are tls.crt and tls.key.
	certPEM, keyPEM []byte
	// extraCA is a root unrelated to the chain.
	extraCA *testpki.Cert
}

var fixtures = struct {
	sync.Mutex
	m map[testpki.KeyType]*fixture
}{m: map[testpki.KeyType]*fixture{}}

// fixtureFor returns the fixture whose leaf key has type kt, made once per
// test binary.
func fixtureFor(tb testing.TB, kt testpki.KeyType) *fixture {
	tb.Helper()
	fixtures.Lock()
	defer fixtures.Unlock()
	if f, ok := fixtures.m[kt]; ok {
		return f
	}
	chain := testpki.NewChain(tb, "keystore-"+string(kt), testpki.Key(tb, kt, 0))
	f := &fixture{
		chain:   chain,
		certPEM: testpki.CertsPEM(chain.Certs()...),
		keyPEM:  testpki.KeyPEM(tb, chain.Leaf.Key),
		extraCA: testpki.Issue(tb, testpki.Template{CommonName: "Extra Root CA", IsCA: true, Key: testpki.Key(tb, testpki.ECDSA, 50)}, nil),
	}
	var err error
	if f.kp, err = pki.ParseKeyPair(f.certPEM, f.keyPEM); err != nil {
		tb.Fatal(err)
	}
	fixtures.m[kt] = f
	return f
}

// cas is the chain's root and the extra CA.
func (f *fixture) cas() []*x509.Certificate {
	return []*x509.Certificate{f.chain.Root.Cert, f.extraCA.Cert}
}

func loadJKS(t *testing.T, data []byte, password string) jks.KeyStore {
	t.Helper()
	ks := jks.New()
	if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
		t.Fatalf("load JKS: %v", err)
	}
	return ks
}

// p12Bag is a certificate bag of a PKCS#12 file, as read by certBags.
type p12Bag struct {
	friendlyName string
	der          []byte
	javaTrusted  bool
}

var (
	oidEncryptedData   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidCertBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidJavaTrusted     = asn1.ObjectIdentifier{2, 16, 840, 1, 113894, 746875, 1, 1}
	oidPBES2           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBEWithSHA3DES  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHARC240 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidAES256CBC       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

type encryptedData struct {
	Version              int
	EncryptedContentInfo struct {
		ContentType      asn1.ObjectIdentifier
		Algorithm        pkix.AlgorithmIdentifier
		EncryptedContent []byte `asn1:"tag:0,optional"`
	}
}

// certBags decrypts the SafeContents of a PKCS#12 file and returns its
// certificate bags with their friendlyName. It decrypts PBES2
// (AES-256-CBC) and pbeWithSHAAnd3-KeyTripleDES-CBC, the latter with
// pkcs12KDF; ok is false for RC2-40, which the standard library lacks.
func certBags(t *testing.T, pfxDER []byte, password string) (bags []p12Bag, ok bool) {
	t.Helper()
	var pfx pfxPDU
	if err := unmarshalAll(pfxDER, &pfx); err != nil {
		t.Fatal(err)
	}
	authSafeDER, err := octets(pfx.AuthSafe)
	if err != nil {
		t.Fatal(err)
	}
	var authSafe []contentInfo
	if err := unmarshalAll(authSafeDER, &authSafe); err != nil {
		t.Fatal(err)
	}
	for _, ci := range authSafe {
		var contents []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if contents, err = octets(ci); err != nil {
				t.Fatal(err)
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed encryptedData
			if err := unmarshalAll(ci.Content.Bytes, &ed); err != nil {
				t.Fatal(err)
			}
			alg := ed.EncryptedContentInfo.Algorithm
			if alg.Algorithm.Equal(oidPBEWithSHARC240) {
				return nil, false
			}
			contents = decrypt(t, alg, ed.EncryptedContentInfo.EncryptedContent, password)
		default:
			t.Fatalf("unexpected content type %v", ci.ContentType)
		}
		var sbs []safeBag
		if err := unmarshalAll(contents, &sbs); err != nil {
			t.Fatalf("safe contents: %v", err)
		}
		for _, sb := range sbs {
			if !sb.ID.Equal(oidCertBag) {
				continue
			}
			var cb struct {
				ID   asn1.ObjectIdentifier
				Data []byte `asn1:"tag:0,explicit"`
			}
			if err := unmarshalAll(sb.Value.Bytes, &cb); err != nil {
				t.Fatalf("cert bag: %v", err)
			}
			bag := p12Bag{der: cb.Data}
			for _, a := range sb.Attributes {
				var v asn1.RawValue
				switch {
				case a.ID.Equal(oidFriendlyName):
					if err := unmarshalAll(a.Value.Bytes, &v); err != nil || v.Tag != asn1.TagBMPString {
						t.Fatalf("friendlyName is not a BMPString: %v", err)
					}
					bag.friendlyName = decodeBMP(v.Bytes)
				case a.ID.Equal(oidJavaTrusted):
					bag.javaTrusted = true
				}
			}
			bags = append(bags, bag)
		}
	}
	return bags, true
}

func decrypt(t *testing.T, alg pkix.AlgorithmIdentifier, data []byte, password string) []byte {
	t.Helper()
	var block cipher.Block
	var iv []byte
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		var params struct{ KDF, Enc pkix.AlgorithmIdentifier }
		var kdf pbkdf2Params
		if err := unmarshalAll(alg.Parameters.FullBytes, &params); err != nil {
			t.Fatal(err)
		}
		if err := unmarshalAll(params.KDF.Parameters.FullBytes, &kdf); err != nil || !params.Enc.Algorithm.Equal(oidAES256CBC) {
			t.Fatalf("unexpected PBES2 parameters: %v", err)
		}
		if err := unmarshalAll(params.Enc.Parameters.FullBytes, &iv); err != nil {
			t.Fatal(err)
		}
		prf := sha1.New
		if kdf.PRF.Algorithm.Equal(oidHMACSHA256) {
			prf = sha256.New
		}
		key, err := pbkdf2.Key(prf, password, kdf.Salt, kdf.Iterations, 32)
		if err != nil {
			t.Fatal(err)
		}
		if block, err = aes.NewCipher(key); err != nil {
			t.Fatal(err)
		}
	case alg.Algorithm.Equal(oidPBEWithSHA3DES):
		var params struct {
			Salt       []byte
			Iterations int
		}
		if err := unmarshalAll(alg.Parameters.FullBytes, &params); err != nil {
			t.Fatal(err)
		}
		pw := bmpString(password, true)
		h := func() hash.Hash { return sha1.New() }
		key := pkcs12KDF(h, pw, params.Salt, 1, params.Iterations, 24)
		iv = pkcs12KDF(h, pw, params.Salt, 2, params.Iterations, 8)
		var err error
		if block, err = des.NewTripleDESCipher(key); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unexpected encryption %v", alg.Algorithm)
	}
	if len(data) == 0 || len(data)%block.BlockSize() != 0 {
		t.Fatalf("ciphertext of %d bytes", len(data))
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > block.BlockSize() || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		t.Fatal("bad padding: wrong key derivation or password")
	}
	return out[:len(out)-pad]
}
