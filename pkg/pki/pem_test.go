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
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/testpki"
)

func TestParseCertificates(t *testing.T) {
	c := chainFor(t, testpki.ECDSA)
	leaf, inter, root := c.Leaf.Cert, c.Intermediate.Cert, c.Root.Cert
	full := testpki.CertsPEM(leaf, inter, root)

	tests := map[string]struct {
		data       []byte
		want       []*x509.Certificate
		wantReason string
		wantInMsg  string
	}{
		"one certificate":      {data: c.Leaf.PEM(), want: []*x509.Certificate{leaf}},
		"chain":                {data: full, want: []*x509.Certificate{leaf, inter, root}},
		"order is kept":        {data: testpki.CertsPEM(root, leaf, inter), want: []*x509.Certificate{root, leaf, inter}},
		"duplicates are kept":  {data: testpki.CertsPEM(leaf, leaf), want: []*x509.Certificate{leaf, leaf}},
		"CRLF line endings":    {data: testpki.CRLF(full), want: []*x509.Certificate{leaf, inter, root}},
		"76-column base64":     {data: testpki.Rewrap(t, full, 76), want: []*x509.Certificate{leaf, inter, root}},
		"one-line base64":      {data: testpki.Rewrap(t, full, 1<<20), want: []*x509.Certificate{leaf, inter, root}},
		"trailing whitespace":  {data: append(bytes.Clone(full), "\n\n  \n"...), want: []*x509.Certificate{leaf, inter, root}},
		"no final newline":     {data: bytes.TrimRight(full, "\n"), want: []*x509.Certificate{leaf, inter, root}},
		"text before a block":  {data: testpki.Join([]byte("subject=CN = x\nissuer=CN = y\n"), c.Leaf.PEM()), want: []*x509.Certificate{leaf}},
		"private key skipped":  {data: testpki.Join(testpki.KeyPEM(t, c.Leaf.Key), c.Leaf.PEM()), want: []*x509.Certificate{leaf}},
		"public key skipped":   {data: testpki.Join(pemBlock("PUBLIC KEY", []byte("x")), c.Root.PEM()), want: []*x509.Certificate{root}},
		"trusted cert skipped": {data: testpki.Join(pemBlock("TRUSTED CERTIFICATE", root.Raw), c.Leaf.PEM()), want: []*x509.Certificate{leaf}},
		"empty":                {data: nil, wantReason: badinput.NoCertificate},
		"whitespace":           {data: []byte(" \n\t\n"), wantReason: badinput.NoCertificate},
		"garbage":              {data: []byte("garbage \x00\x01\x02 not PEM"), wantReason: badinput.NoCertificate},
		"DER instead of PEM":   {data: leaf.Raw, wantReason: badinput.NoCertificate},
		"only a private key":   {data: testpki.KeyPEM(t, c.Leaf.Key), wantReason: badinput.NoCertificate},
		"truncated in the middle": {
			data: cut(c.Leaf.PEM()), wantReason: badinput.MalformedPEM, wantInMsg: "truncated",
		},
		"valid chain cut in the middle": {
			data: cut(full), wantReason: badinput.MalformedPEM, wantInMsg: "truncated or corrupt after 1 block",
		},
		"missing END line": {
			data: bytes.TrimSuffix(c.Leaf.PEM(), []byte("-----END CERTIFICATE-----\n")), wantReason: badinput.MalformedPEM,
		},
		"BEGIN line only": {
			data: []byte("-----BEGIN CERTIFICATE-----\n"), wantReason: badinput.MalformedPEM,
		},
		"invalid base64": {
			data: []byte("-----BEGIN CERTIFICATE-----\n!!!!not base64!!!!\n-----END CERTIFICATE-----\n"), wantReason: badinput.MalformedPEM,
		},
		"CERTIFICATE block of garbage": {
			data: garbageBlock("CERTIFICATE"), wantReason: badinput.MalformedPEM, wantInMsg: "certificate 1 is not valid X.509",
		},
		"second certificate is garbage": {
			data: testpki.Join(c.Leaf.PEM(), garbageBlock("CERTIFICATE")), wantReason: badinput.MalformedPEM, wantInMsg: "certificate 2",
		},
		"certificate with trailing bytes": {
			data: pemBlock("CERTIFICATE", append(bytes.Clone(leaf.Raw), 0, 0)), wantReason: badinput.MalformedPEM,
		},
		// A block that is not valid PEM must not be skipped silently because
		// a valid block follows it: the chain or bundle would lose a
		// certificate without a word.
		"a corrupt block before a good one": {
			data: testpki.Join(corruptBlock("CERTIFICATE", inter.Raw), c.Leaf.PEM()), wantReason: badinput.MalformedPEM,
		},
		"a corrupt block between good ones": {
			data: testpki.Join(c.Leaf.PEM(), corruptBlock("CERTIFICATE", inter.Raw), c.Root.PEM()), wantReason: badinput.MalformedPEM,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseCertificates(tc.data)
			if tc.wantReason != "" {
				e := testpki.RequireReason(t, err, tc.wantReason)
				if !strings.Contains(e.Message, tc.wantInMsg) {
					t.Errorf("message %q does not contain %q", e.Message, tc.wantInMsg)
				}
				if got != nil {
					t.Errorf("on error got %d certificates", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !testpki.SameCerts(got, tc.want) {
				t.Errorf("got %v, want %v", testpki.CommonNames(got), testpki.CommonNames(tc.want))
			}
		})
	}
}

// corruptBlock is a PEM block of type typ holding der whose base64 has
// one invalid character, as a bad copy and paste leaves it.
func corruptBlock(typ string, der []byte) []byte {
	b := pemBlock(typ, der)
	i := bytes.IndexByte(b, '\n') + 10
	b[i] = '%'
	return b
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// TestParseCertificatesTruncated cuts a two-certificate bundle at every
// byte: a cut inside a block is always an error, a cut between blocks
// yields the complete blocks before it.
func TestParseCertificatesTruncated(t *testing.T) {
	c := chainFor(t, testpki.ECDSA)
	first, second := c.Leaf.PEM(), c.Intermediate.PEM()
	data := testpki.Join(first, second)
	firstEnd := len(first) - 1 // just after the END marker
	secondBegin := len(first) + len("-----BEGIN")
	secondEnd := len(data) - 1
	for n := 0; n <= len(data); n++ {
		got, err := ParseCertificates(data[:n])
		switch {
		case n < len("-----BEGIN"):
			if _, ok := badinput.As(err); !ok || got != nil {
				t.Fatalf("cut at %d: got %d certs, %v; want an error", n, len(got), err)
			}
		case n < firstEnd:
			if e, ok := badinput.As(err); !ok || e.Reason != badinput.MalformedPEM {
				t.Fatalf("cut at %d inside the first block: got %d certs, %v; want MalformedPEM", n, len(got), err)
			}
		case n < secondBegin:
			// Between the blocks: the first certificate, complete.
			if err != nil || len(got) != 1 || !bytes.Equal(got[0].Raw, c.Leaf.Cert.Raw) {
				t.Fatalf("cut at %d between blocks: got %d certs, %v; want the first certificate", n, len(got), err)
			}
		case n < secondEnd:
			if e, ok := badinput.As(err); !ok || e.Reason != badinput.MalformedPEM {
				t.Fatalf("cut at %d inside the second block: got %d certs, %v; want MalformedPEM", n, len(got), err)
			}
		default:
			if err != nil || len(got) != 2 {
				t.Fatalf("cut at %d after the second block: got %d certs, %v", n, len(got), err)
			}
		}
	}
	if got, err := ParseCertificates(data); err != nil || len(got) != 2 {
		t.Fatalf("whole bundle: %d certs, %v", len(got), err)
	}
}

func TestMaxPEMSize(t *testing.T) {
	c := chainFor(t, testpki.ECDSA)
	pad := func(data []byte, size int) []byte {
		return append(bytes.Clone(data), bytes.Repeat([]byte("\n"), size-len(data))...)
	}
	certAtLimit := pad(c.Leaf.PEM(), MaxPEMSize)
	keyAtLimit := pad(testpki.KeyPEM(t, c.Leaf.Key), MaxPEMSize)
	certOver := pad(c.Leaf.PEM(), MaxPEMSize+1)
	keyOver := pad(testpki.KeyPEM(t, c.Leaf.Key), MaxPEMSize+1)

	if certs, err := ParseCertificates(certAtLimit); err != nil || len(certs) != 1 {
		t.Errorf("certificates at the limit: %d, %v", len(certs), err)
	}
	if _, err := ParsePrivateKey(keyAtLimit); err != nil {
		t.Errorf("key at the limit: %v", err)
	}
	if _, err := ParseKeyPair(certAtLimit, keyAtLimit); err != nil {
		t.Errorf("key pair at the limit: %v", err)
	}
	for name, f := range map[string]func() error{
		"certificates": func() error { _, err := ParseCertificates(certOver); return err },
		"key":          func() error { _, err := ParsePrivateKey(keyOver); return err },
		"pair, cert":   func() error { _, err := ParseKeyPair(certOver, keyAtLimit); return err },
		"pair, key":    func() error { _, err := ParseKeyPair(certAtLimit, keyOver); return err },
	} {
		t.Run(name, func(t *testing.T) {
			e := testpki.RequireReason(t, f(), badinput.MalformedPEM)
			if !strings.Contains(e.Message, "limit") {
				t.Errorf("message %q does not mention the limit", e.Message)
			}
		})
	}
}

func TestParsePrivateKey(t *testing.T) {
	rk, ek := rsaKey(t), ecKey(t)
	ed := testpki.Key(t, testpki.Ed25519, 0)
	cert := chainFor(t, testpki.ECDSA).Leaf.PEM()

	tests := map[string]struct {
		data       []byte
		want       crypto.Signer
		wantReason string
	}{
		"RSA PKCS#1":                    {data: testpki.PKCS1PEM(rk), want: rk},
		"RSA PKCS#8":                    {data: testpki.PKCS8PEM(t, rk), want: rk},
		"EC SEC1":                       {data: testpki.SEC1PEM(t, ek), want: ek},
		"EC PKCS#8":                     {data: testpki.PKCS8PEM(t, ek), want: ek},
		"Ed25519 PKCS#8":                {data: testpki.PKCS8PEM(t, ed), want: ed},
		"CRLF":                          {data: testpki.CRLF(testpki.PKCS1PEM(rk)), want: rk},
		"rewrapped":                     {data: testpki.Rewrap(t, testpki.SEC1PEM(t, ek), 76), want: ek},
		"EC PARAMETERS first":           {data: testpki.Join(pemBlock("EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}), testpki.SEC1PEM(t, ek)), want: ek},
		"certificate first":             {data: testpki.Join(cert, testpki.PKCS8PEM(t, ed)), want: ed},
		"first of two keys":             {data: testpki.Join(testpki.SEC1PEM(t, ek), testpki.PKCS1PEM(rk)), want: ek},
		"empty":                         {data: nil, wantReason: badinput.NoPrivateKey},
		"garbage":                       {data: []byte("garbage"), wantReason: badinput.NoPrivateKey},
		"certificate only":              {data: cert, wantReason: badinput.NoPrivateKey},
		"public key only":               {data: pemBlock("PUBLIC KEY", []byte("x")), wantReason: badinput.NoPrivateKey},
		"encrypted PKCS#8":              {data: testpki.EncryptedPKCS8PEM(t, ek, "passphrase"), wantReason: badinput.EncryptedPrivateKey},
		"encrypted PKCS#8 RSA":          {data: testpki.EncryptedPKCS8PEM(t, rk, "passphrase"), wantReason: badinput.EncryptedPrivateKey},
		"ENCRYPTED garbage":             {data: garbageBlock("ENCRYPTED PRIVATE KEY"), wantReason: badinput.EncryptedPrivateKey},
		"legacy encrypted PEM":          {data: testpki.LegacyEncryptedPEM(t, rk, "passphrase"), wantReason: badinput.EncryptedPrivateKey},
		"Proc-Type header only":         {data: withHeaders(testpki.SEC1PEM(t, ek), map[string]string{"Proc-Type": "4,ENCRYPTED"}), wantReason: badinput.EncryptedPrivateKey},
		"DEK-Info header only":          {data: withHeaders(testpki.PKCS8PEM(t, ek), map[string]string{"DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}), wantReason: badinput.EncryptedPrivateKey},
		"encrypted before plain":        {data: testpki.Join(testpki.EncryptedPKCS8PEM(t, ek, "x"), testpki.SEC1PEM(t, ek)), wantReason: badinput.EncryptedPrivateKey},
		"truncated PKCS#1":              {data: cut(testpki.PKCS1PEM(rk)), wantReason: badinput.MalformedPEM},
		"truncated PKCS#8":              {data: cut(testpki.PKCS8PEM(t, ek)), wantReason: badinput.MalformedPEM},
		"truncated SEC1":                {data: cut(testpki.SEC1PEM(t, ek)), wantReason: badinput.MalformedPEM},
		"missing END line":              {data: bytes.TrimSuffix(testpki.PKCS8PEM(t, ed), []byte("-----END PRIVATE KEY-----\n")), wantReason: badinput.MalformedPEM},
		"PRIVATE KEY of garbage":        {data: garbageBlock("PRIVATE KEY"), wantReason: badinput.MalformedPEM},
		"RSA KEY of garbage":            {data: garbageBlock("RSA PRIVATE KEY"), wantReason: badinput.MalformedPEM},
		"EC KEY of garbage":             {data: garbageBlock("EC PRIVATE KEY"), wantReason: badinput.MalformedPEM},
		"PKCS#8 labelled PKCS#1":        {data: pemBlock("RSA PRIVATE KEY", testpki.PKCS8DER(t, rk)), wantReason: badinput.MalformedPEM},
		"PKCS#1 labelled SEC1":          {data: pemBlock("EC PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)), wantReason: badinput.MalformedPEM},
		"X25519 is not a signer":        {data: x25519PKCS8PEM(t), wantReason: badinput.UnsupportedKeyType},
		"corrupt key before a good one": {data: testpki.Join(corruptBlock("PRIVATE KEY", testpki.PKCS8DER(t, rk)), testpki.SEC1PEM(t, ek)), wantReason: badinput.MalformedPEM},
		"invalid base64 key body":       {data: []byte("-----BEGIN PRIVATE KEY-----\n%%%\n-----END PRIVATE KEY-----\n"), wantReason: badinput.MalformedPEM},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePrivateKey(tc.data)
			if tc.wantReason != "" {
				testpki.RequireReason(t, err, tc.wantReason)
				if got != nil {
					t.Errorf("on error got key %T", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !keyEqual(got, tc.want) {
				t.Errorf("got a %T that is not the expected %T", got, tc.want)
			}
		})
	}
}

func TestParsePrivateKeyTypes(t *testing.T) {
	tests := map[string]struct {
		kt   testpki.KeyType
		want func(crypto.Signer) bool
	}{
		"RSA":     {testpki.RSA, func(k crypto.Signer) bool { _, ok := k.(*rsa.PrivateKey); return ok }},
		"ECDSA":   {testpki.ECDSA, func(k crypto.Signer) bool { _, ok := k.(*ecdsa.PrivateKey); return ok }},
		"Ed25519": {testpki.Ed25519, func(k crypto.Signer) bool { _, ok := k.(ed25519.PrivateKey); return ok }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, data := range [][]byte{testpki.KeyPEM(t, testpki.Key(t, tc.kt, 0)), testpki.PKCS8PEM(t, testpki.Key(t, tc.kt, 0))} {
				k, err := ParsePrivateKey(data)
				if err != nil || !tc.want(k) {
					t.Errorf("got %T, %v", k, err)
				}
			}
		})
	}
}

// TestParsePrivateKeyTruncated cuts a key at every byte: never a key,
// always a badinput error, MalformedPEM once the BEGIN line is complete.
func TestParsePrivateKeyTruncated(t *testing.T) {
	for _, data := range [][]byte{testpki.PKCS8PEM(t, ecKey(t)), testpki.SEC1PEM(t, ecKey(t)), testpki.PKCS8PEM(t, testpki.Key(t, testpki.Ed25519, 0))} {
		header := bytes.IndexByte(data, '\n')
		end := bytes.LastIndex(data, []byte("-----END"))
		for n := 0; n < end+len("-----END PRIVATE"); n++ {
			k, err := ParsePrivateKey(data[:n])
			e, ok := badinput.As(err)
			if !ok || k != nil {
				t.Fatalf("cut at %d: got %T, %v; want an error", n, k, err)
			}
			if n > header && e.Reason != badinput.MalformedPEM {
				t.Fatalf("cut at %d after the BEGIN line: reason %s, want MalformedPEM", n, e.Reason)
			}
		}
	}
}

func withHeaders(data []byte, h map[string]string) []byte {
	b, _ := pem.Decode(data)
	b.Headers = h
	return pem.EncodeToMemory(b)
}

func TestParseKeyPair(t *testing.T) {
	type chainSpec struct {
		kt    testpki.KeyType
		order []string // of "leaf", "int", "root", "other"
		key   string   // whose key is tls.key: "leaf", "int", "other"
	}
	other := otherChain(t)
	tests := map[string]struct {
		spec       chainSpec
		want       []string
		wantReason string
	}{
		"RSA leaf first":                   {spec: chainSpec{testpki.RSA, []string{"leaf", "int", "root"}, "leaf"}, want: []string{"leaf", "int", "root"}},
		"ECDSA leaf first":                 {spec: chainSpec{testpki.ECDSA, []string{"leaf", "int", "root"}, "leaf"}, want: []string{"leaf", "int", "root"}},
		"Ed25519 leaf first":               {spec: chainSpec{testpki.Ed25519, []string{"leaf", "int", "root"}, "leaf"}, want: []string{"leaf", "int", "root"}},
		"root, leaf, intermediate":         {spec: chainSpec{testpki.RSA, []string{"root", "leaf", "int"}, "leaf"}, want: []string{"leaf", "int", "root"}},
		"intermediate, root, leaf":         {spec: chainSpec{testpki.ECDSA, []string{"int", "root", "leaf"}, "leaf"}, want: []string{"leaf", "int", "root"}},
		"root, intermediate, leaf":         {spec: chainSpec{testpki.Ed25519, []string{"root", "int", "leaf"}, "leaf"}, want: []string{"leaf", "int", "root"}},
		"leaf only":                        {spec: chainSpec{testpki.RSA, []string{"leaf"}, "leaf"}, want: []string{"leaf"}},
		"leaf and intermediate":            {spec: chainSpec{testpki.RSA, []string{"int", "leaf"}, "leaf"}, want: []string{"leaf", "int"}},
		"gap in the chain":                 {spec: chainSpec{testpki.RSA, []string{"root", "leaf"}, "leaf"}, want: []string{"leaf", "root"}},
		"unrelated certificate kept last":  {spec: chainSpec{testpki.ECDSA, []string{"other", "root", "leaf", "int"}, "leaf"}, want: []string{"leaf", "int", "root", "other"}},
		"key of the intermediate":          {spec: chainSpec{testpki.ECDSA, []string{"leaf", "int", "root"}, "int"}, want: []string{"int", "root", "leaf"}},
		"key of another chain":             {spec: chainSpec{testpki.RSA, []string{"leaf", "int", "root"}, "other"}, wantReason: badinput.KeyCertificateMismatch},
		"key of an ECDSA leaf for Ed25519": {spec: chainSpec{testpki.Ed25519, []string{"leaf"}, "other"}, wantReason: badinput.KeyCertificateMismatch},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := chainFor(t, tc.spec.kt)
			byName := map[string]*testpki.Cert{"leaf": c.Leaf, "int": c.Intermediate, "root": c.Root, "other": other.Leaf}
			var certs []*x509.Certificate
			for _, n := range tc.spec.order {
				certs = append(certs, byName[n].Cert)
			}
			kp, err := ParseKeyPair(testpki.CertsPEM(certs...), testpki.KeyPEM(t, byName[tc.spec.key].Key))
			if tc.wantReason != "" {
				e := testpki.RequireReason(t, err, tc.wantReason)
				if !strings.Contains(e.Message, certs[0].Subject.String()) {
					t.Errorf("message %q does not name the first certificate", e.Message)
				}
				if kp != nil {
					t.Error("on error got a key pair")
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var want []*x509.Certificate
			for _, n := range tc.want {
				want = append(want, byName[n].Cert)
			}
			if !testpki.SameCerts(kp.Chain, want) {
				t.Errorf("chain %v, want %v", testpki.CommonNames(kp.Chain), testpki.CommonNames(want))
			}
			if !keyEqual(kp.Key, byName[tc.spec.key].Key) {
				t.Error("key differs from tls.key")
			}
			if kp.Leaf() != kp.Chain[0] || !publicKeyMatches(kp.Key, kp.Leaf()) {
				t.Error("Leaf() is not the certificate of the key")
			}
		})
	}
}

func TestParseKeyPairBadInput(t *testing.T) {
	c := chainFor(t, testpki.RSA)
	certs := testpki.CertsPEM(c.Certs()...)
	key := testpki.KeyPEM(t, c.Leaf.Key)
	tests := map[string]struct {
		cert, key  []byte
		wantReason string
	}{
		"empty certificate":           {nil, key, badinput.NoCertificate},
		"empty key":                   {certs, nil, badinput.NoPrivateKey},
		"both empty":                  {nil, nil, badinput.NoCertificate},
		"truncated certificate":       {cut(certs), key, badinput.MalformedPEM},
		"truncated key":               {certs, cut(key), badinput.MalformedPEM},
		"garbage certificate block":   {garbageBlock("CERTIFICATE"), key, badinput.MalformedPEM},
		"garbage key block":           {certs, garbageBlock("RSA PRIVATE KEY"), badinput.MalformedPEM},
		"encrypted PKCS#8 key":        {certs, testpki.EncryptedPKCS8PEM(t, c.Leaf.Key, "x"), badinput.EncryptedPrivateKey},
		"legacy encrypted key":        {certs, testpki.LegacyEncryptedPEM(t, c.Leaf.Key.(*rsa.PrivateKey), "x"), badinput.EncryptedPrivateKey},
		"key and certificate swapped": {key, certs, badinput.NoCertificate},
		"unsupported key type":        {certs, x25519PKCS8PEM(t), badinput.UnsupportedKeyType},
		"unrelated key":               {certs, testpki.KeyPEM(t, testpki.Key(t, testpki.RSA, 1)), badinput.KeyCertificateMismatch},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			kp, err := ParseKeyPair(tc.cert, tc.key)
			testpki.RequireReason(t, err, tc.wantReason)
			if kp != nil {
				t.Error("on error got a key pair")
			}
		})
	}
}

func TestParseKeyPairKeyEncodings(t *testing.T) {
	rk, ek := rsaKey(t), ecKey(t)
	ed := testpki.Key(t, testpki.Ed25519, 0)
	tests := map[string]struct {
		kt  testpki.KeyType
		key []byte
	}{
		"RSA PKCS#1":                            {testpki.RSA, testpki.PKCS1PEM(rk)},
		"RSA PKCS#8":                            {testpki.RSA, testpki.PKCS8PEM(t, rk)},
		"EC SEC1":                               {testpki.ECDSA, testpki.SEC1PEM(t, ek)},
		"EC PKCS#8":                             {testpki.ECDSA, testpki.PKCS8PEM(t, ek)},
		"Ed25519 PKCS#8":                        {testpki.Ed25519, testpki.PKCS8PEM(t, ed)},
		"key after the certificate in one file": {testpki.ECDSA, testpki.Join(chainFor(t, testpki.ECDSA).Leaf.PEM(), testpki.SEC1PEM(t, ek))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := chainFor(t, tc.kt)
			kp, err := ParseKeyPair(testpki.CertsPEM(c.Certs()...), tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if !keyEqual(kp.Key, c.Leaf.Key) || !testpki.SameCerts(kp.Chain, c.Certs()) {
				t.Errorf("got chain %v", testpki.CommonNames(kp.Chain))
			}
		})
	}
}

// TestParseKeyPairIssuerCycle: two CAs that cross-signed each other must
// not make the chain walk loop.
func TestParseKeyPairIssuerCycle(t *testing.T) {
	ka, kb := testpki.Key(t, testpki.ECDSA, 30), testpki.Key(t, testpki.ECDSA, 31)
	rootA := testpki.Issue(t, testpki.Template{CommonName: "A", IsCA: true, Key: ka}, nil)
	rootB := testpki.Issue(t, testpki.Template{CommonName: "B", IsCA: true, Key: kb}, nil)
	aByB := testpki.Issue(t, testpki.Template{CommonName: "A", IsCA: true, Key: ka}, rootB)
	bByA := testpki.Issue(t, testpki.Template{CommonName: "B", IsCA: true, Key: kb}, rootA)
	leafKey := testpki.Key(t, testpki.ECDSA, 32)
	leaf := testpki.Issue(t, testpki.Template{CommonName: "leaf", Key: leafKey}, aByB)

	kp, err := ParseKeyPair(testpki.CertsPEM(bByA.Cert, aByB.Cert, leaf.Cert), testpki.KeyPEM(t, leafKey))
	if err != nil {
		t.Fatal(err)
	}
	want := []*x509.Certificate{leaf.Cert, aByB.Cert, bByA.Cert}
	if !testpki.SameCerts(kp.Chain, want) {
		t.Errorf("chain %v, want leaf, A, B", testpki.CommonNames(kp.Chain))
	}
}

func TestUniqueSorted(t *testing.T) {
	c := chainFor(t, testpki.ECDSA)
	a, b, d := c.Leaf.Cert, c.Intermediate.Cert, c.Root.Cert
	want := UniqueSorted([]*x509.Certificate{a, b, d})
	if len(want) != 3 {
		t.Fatalf("3 distinct certificates gave %d", len(want))
	}
	for i := 1; i < len(want); i++ {
		fp, prev := Fingerprint(want[i]), Fingerprint(want[i-1])
		if bytes.Compare(prev[:], fp[:]) >= 0 {
			t.Fatalf("not sorted by fingerprint at %d", i)
		}
	}
	tests := map[string]struct {
		in   []*x509.Certificate
		want []*x509.Certificate
	}{
		"nil":                  {nil, nil},
		"one":                  {[]*x509.Certificate{a}, []*x509.Certificate{a}},
		"a duplicate":          {[]*x509.Certificate{a, a}, []*x509.Certificate{a}},
		"abd":                  {[]*x509.Certificate{a, b, d}, want},
		"dba":                  {[]*x509.Certificate{d, b, a}, want},
		"bad":                  {[]*x509.Certificate{b, a, d}, want},
		"with duplicates":      {[]*x509.Certificate{d, a, b, a, d, d}, want},
		"re-parsed duplicates": {[]*x509.Certificate{a, b, d, reparse(t, a), reparse(t, d)}, want},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got := UniqueSorted(tc.in)
			if !testpki.SameCerts(got, tc.want) {
				t.Errorf("got %v, want %v", testpki.CommonNames(got), testpki.CommonNames(tc.want))
			}
			if !slices.Equal(in, tc.in) {
				t.Error("UniqueSorted modified its input")
			}
		})
	}
}

func reparse(t *testing.T, c *x509.Certificate) *x509.Certificate {
	t.Helper()
	out, err := x509.ParseCertificate(bytes.Clone(c.Raw))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFingerprint(t *testing.T) {
	for _, kt := range testpki.KeyTypes {
		c := chainFor(t, kt).Leaf.Cert
		if Fingerprint(c) != sha256.Sum256(c.Raw) {
			t.Errorf("%s: Fingerprint is not the SHA-256 of the DER", kt)
		}
	}
	c := chainFor(t, testpki.RSA)
	if Fingerprint(c.Leaf.Cert) == Fingerprint(c.Root.Cert) {
		t.Error("different certificates have the same fingerprint")
	}
}

// An intermediate renewed with a new key keeps its subject: the leaf's
// issuer is the one whose key identifier (or signature) matches, whatever
// the order of the two.
func TestParseKeyPairSameSubjectIssuers(t *testing.T) {
	root := testpki.Issue(t, testpki.Template{CommonName: "root", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 40)}, nil)
	oldInt := testpki.Issue(t, testpki.Template{CommonName: "int", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 41)}, root)
	newInt := testpki.Issue(t, testpki.Template{CommonName: "int", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 42)}, root)
	leafKey := testpki.Key(t, testpki.ECDSA, 43)
	leaf := testpki.Issue(t, testpki.Template{CommonName: "leaf", Key: leafKey}, newInt)
	for name, order := range map[string][]*x509.Certificate{
		"old first": {leaf.Cert, oldInt.Cert, newInt.Cert, root.Cert},
		"new first": {leaf.Cert, newInt.Cert, oldInt.Cert, root.Cert},
	} {
		kp, err := ParseKeyPair(testpki.CertsPEM(order...), testpki.KeyPEM(t, leafKey))
		if err != nil {
			t.Fatal(err)
		}
		if want := []*x509.Certificate{leaf.Cert, newInt.Cert, root.Cert, oldInt.Cert}; !testpki.SameCerts(kp.Chain, want) {
			t.Errorf("%s: chain %v, want leaf, the new int, root, the old int", name, testpki.CommonNames(kp.Chain))
		}
	}
}
