package keystore

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/testpki"
)

func TestBuildJKS(t *testing.T) {
	tests := map[string]struct {
		kt        testpki.KeyType
		alias     string
		wantAlias string
		password  string
		noCAs     bool
	}{
		"RSA":                 {kt: testpki.RSA, alias: "tomcat", wantAlias: "tomcat", password: "changeit"},
		"ECDSA":               {kt: testpki.ECDSA, alias: "server", wantAlias: "server", password: "s3cret-with spaces"},
		"Ed25519":             {kt: testpki.Ed25519, alias: "ed", wantAlias: "ed", password: "changeit"},
		"default alias":       {kt: testpki.RSA, alias: "", wantAlias: annotations.DefaultAlias, password: "x"},
		"alias is lower case": {kt: testpki.ECDSA, alias: "MyAlias", wantAlias: "myalias", password: "changeit"},
		"unicode alias":       {kt: testpki.ECDSA, alias: "ключ", wantAlias: "ключ", password: "changeit"},
		"empty truststore":    {kt: testpki.ECDSA, alias: "a", wantAlias: "a", password: "changeit", noCAs: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := fixtureFor(t, tc.kt)
			cas := f.cas()
			if tc.noCAs {
				cas = nil
			}
			out, err := Build(annotations.JKS, Request{KeyPair: f.kp, CAs: cas, Password: tc.password, Alias: tc.alias, Profile: annotations.Modern2023})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(out)); !slices.Equal(got, []string{"keystore.jks", "truststore.jks"}) {
				t.Fatalf("keys %v", got)
			}

			ks := loadJKS(t, out["keystore.jks"], tc.password)
			if got := ks.Aliases(); !slices.Equal(got, []string{tc.wantAlias}) {
				t.Fatalf("keystore aliases %q, want [%q]", got, tc.wantAlias)
			}
			if !ks.IsPrivateKeyEntry(tc.wantAlias) {
				t.Fatal("the entry is not a PrivateKeyEntry")
			}
			entry, err := ks.GetPrivateKeyEntry(tc.wantAlias, []byte(tc.password))
			if err != nil {
				t.Fatalf("key entry does not open with the store password: %v", err)
			}
			key, err := x509.ParsePKCS8PrivateKey(entry.PrivateKey)
			if err != nil {
				t.Fatalf("key is not PKCS#8: %v", err)
			}
			if !key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(f.kp.Key) {
				t.Error("key differs from tls.key")
			}
			if len(entry.CertificateChain) != 3 {
				t.Fatalf("chain of %d, want 3", len(entry.CertificateChain))
			}
			for i, c := range entry.CertificateChain {
				if c.Type != "X509" || !bytes.Equal(c.Content, f.kp.Chain[i].Raw) {
					t.Errorf("chain[%d] is not %q", i, f.kp.Chain[i].Subject.CommonName)
				}
			}
			if !entry.CreationTime.Equal(f.kp.Leaf().NotBefore) {
				t.Errorf("creation time %v, want the leaf's NotBefore %v", entry.CreationTime, f.kp.Leaf().NotBefore)
			}

			ts := loadJKS(t, out["truststore.jks"], tc.password)
			checkJKSTruststore(t, ts, cas)
		})
	}
}

func checkJKSTruststore(t *testing.T, ts jks.KeyStore, cas []*x509.Certificate) {
	t.Helper()
	want := pki.UniqueSorted(cas)
	var wantAliases []string
	for _, c := range want {
		wantAliases = append(wantAliases, TrustAlias(c))
	}
	slices.Sort(wantAliases)
	got := ts.Aliases()
	slices.Sort(got)
	if !slices.Equal(got, wantAliases) {
		t.Fatalf("truststore aliases %q, want %q", got, wantAliases)
	}
	for _, c := range want {
		e, err := ts.GetTrustedCertificateEntry(TrustAlias(c))
		if err != nil {
			t.Fatalf("%q is not a trustedCertEntry: %v", TrustAlias(c), err)
		}
		if !bytes.Equal(e.Certificate.Content, c.Raw) {
			t.Errorf("%q holds another certificate", TrustAlias(c))
		}
	}
}

func TestBuildJKSTruststoreContent(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	cas := []*x509.Certificate{f.extraCA.Cert, f.chain.Root.Cert, f.chain.Intermediate.Cert, f.extraCA.Cert}
	out, err := Build(annotations.JKS, Request{KeyPair: f.kp, CAs: cas, Password: "changeit"})
	if err != nil {
		t.Fatal(err)
	}
	ts := loadJKS(t, out["truststore.jks"], "changeit")
	if n := len(ts.Aliases()); n != 3 {
		t.Fatalf("%d entries, want 3 unique certificates", n)
	}
	for _, c := range pki.UniqueSorted(cas) {
		e, err := ts.GetTrustedCertificateEntry(TrustAlias(c))
		if err != nil {
			t.Fatalf("%s: %v", c.Subject.CommonName, err)
		}
		if e.Certificate.Type != "X509" || !bytes.Equal(e.Certificate.Content, c.Raw) {
			t.Errorf("entry %q holds another certificate", TrustAlias(c))
		}
		if !e.CreationTime.Equal(c.NotBefore) {
			t.Errorf("creation time %v, want NotBefore %v", e.CreationTime, c.NotBefore)
		}
	}
}

func TestBuildJKSWrongPassword(t *testing.T) {
	f := fixtureFor(t, testpki.RSA)
	out, err := Build(annotations.JKS, Request{KeyPair: f.kp, CAs: f.cas(), Password: "right", Alias: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"keystore.jks", "truststore.jks"} {
		for _, pw := range []string{"wrong", "", "Right", "right "} {
			ks := jks.New()
			if err := ks.Load(bytes.NewReader(out[k]), []byte(pw)); err == nil {
				t.Errorf("%s opens with password %q", k, pw)
			}
		}
	}
}

func TestBuildPKCS12(t *testing.T) {
	for _, profile := range annotations.Profiles {
		for _, kt := range testpki.KeyTypes {
			t.Run(string(profile)+"/"+string(kt), func(t *testing.T) {
				f := fixtureFor(t, kt)
				const password, alias = "changeit", "tomcat"
				out, err := Build(annotations.PKCS12, Request{KeyPair: f.kp, CAs: f.cas(), Password: password, Alias: alias, Profile: profile})
				if err != nil {
					t.Fatal(err)
				}
				if got := slices.Sorted(maps.Keys(out)); !slices.Equal(got, []string{"keystore.p12", "truststore.p12"}) {
					t.Fatalf("keys %v", got)
				}
				checkPKCS12Keystore(t, out["keystore.p12"], password, alias, f.kp)
				checkPKCS12Truststore(t, out["truststore.p12"], password, f.cas())
			})
		}
	}
}

// checkPKCS12Keystore decodes a keystore with go-pkcs12, which verifies
// the MAC that setKeyFriendlyName recomputed, and checks its alias.
func checkPKCS12Keystore(t *testing.T, p12 []byte, password, alias string, kp *pki.KeyPair) {
	t.Helper()
	key, leaf, cas, err := pkcs12.DecodeChain(p12, password)
	if err != nil {
		t.Fatalf("DecodeChain: %v", err)
	}
	if !key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(kp.Key) {
		t.Error("key differs from tls.key")
	}
	if got := append([]*x509.Certificate{leaf}, cas...); !testpki.SameCerts(got, kp.Chain) {
		t.Errorf("chain %v, want %v", testpki.CommonNames(got), testpki.CommonNames(kp.Chain))
	}
	if got := KeyAlias(p12); got != alias {
		t.Errorf("KeyAlias = %q, want %q", got, alias)
	}
	wrong := []string{"wrong", "", password + "x", password[:len(password)-1]}
	if up := strings.ToUpper(password); up != password {
		wrong = append(wrong, up)
	}
	for _, pw := range wrong {
		if _, _, _, err := pkcs12.DecodeChain(p12, pw); err == nil {
			t.Errorf("keystore opens with password %q", pw)
		}
	}
}

func checkPKCS12Truststore(t *testing.T, p12 []byte, password string, cas []*x509.Certificate) {
	t.Helper()
	want := pki.UniqueSorted(cas)
	got, err := pkcs12.DecodeTrustStore(p12, password)
	if err != nil {
		t.Fatalf("DecodeTrustStore: %v", err)
	}
	if !testpki.SameCerts(got, want) {
		t.Errorf("truststore %v, want %v", testpki.CommonNames(got), testpki.CommonNames(want))
	}
	if _, err := pkcs12.DecodeTrustStore(p12, "wrong"); err == nil {
		t.Error("truststore opens with a wrong password")
	}
	bags, ok := certBags(t, p12, password)
	if !ok {
		return // RC2-40: the friendly names are checked for the other profiles
	}
	if len(bags) != len(want) {
		t.Fatalf("%d certificate bags, want %d", len(bags), len(want))
	}
	for i, b := range bags {
		if !bytes.Equal(b.der, want[i].Raw) || b.friendlyName != TrustAlias(want[i]) || !b.javaTrusted {
			t.Errorf("bag %d: friendlyName %q, trusted %v; want %q, true", i, b.friendlyName, b.javaTrusted, TrustAlias(want[i]))
		}
	}
}

func TestBuildPKCS12Aliases(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	tests := map[string]struct {
		alias, want string
	}{
		"default":         {"", annotations.DefaultAlias},
		"simple":          {"tomcat", "tomcat"},
		"spaces":          {"my server key", "my server key"},
		"case is kept":    {"MyAlias", "MyAlias"},
		"cyrillic":        {"ключ", "ключ"},
		"outside the BMP": {"🔑 key", "🔑 key"},
		"long":            {strings.Repeat("a", 255), strings.Repeat("a", 255)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, profile := range annotations.Profiles {
				out, err := Build(annotations.PKCS12, Request{KeyPair: f.kp, Password: "changeit", Alias: tc.alias, Profile: profile})
				if err != nil {
					t.Fatal(err)
				}
				checkPKCS12Keystore(t, out["keystore.p12"], "changeit", tc.want, f.kp)
			}
		})
	}
}

// TestBuildPKCS12FriendlyNameGoPKCS12 reads the key bag's friendlyName
// with go-pkcs12's own attribute parser, independently of KeyAlias.
func TestBuildPKCS12FriendlyNameGoPKCS12(t *testing.T) {
	for _, kt := range []testpki.KeyType{testpki.RSA, testpki.ECDSA} { // ToPEM does not convert Ed25519 keys
		for _, profile := range annotations.Profiles {
			t.Run(string(kt)+"/"+string(profile), func(t *testing.T) {
				f := fixtureFor(t, kt)
				out, err := Build(annotations.PKCS12, Request{KeyPair: f.kp, Password: "pw", Alias: "server ключ", Profile: profile})
				if err != nil {
					t.Fatal(err)
				}
				//nolint:staticcheck // ToPEM is the only go-pkcs12 API that exposes bag attributes
				blocks, err := pkcs12.ToPEM(out["keystore.p12"], "pw")
				if err != nil {
					t.Fatal(err)
				}
				var keys int
				for _, b := range blocks {
					if b.Type == "PRIVATE KEY" {
						keys++
						if b.Headers["friendlyName"] != "server ключ" {
							t.Errorf("friendlyName %q", b.Headers["friendlyName"])
						}
						if b.Headers["localKeyId"] == "" {
							t.Error("localKeyId attribute lost")
						}
					}
				}
				if keys != 1 {
					t.Errorf("%d key bags, want 1", keys)
				}
			})
		}
	}
}

func TestBuildPasswords(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	for name, password := range map[string]string{
		"one character":  "x",
		"spaces":         "  a b  ",
		"punctuation":    `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~` + "`",
		"long":           strings.Repeat("p", 512),
		"hex-like":       "0123456789abcdef",
		"default":        annotations.DefaultPassword,
		"with a newline": "line1\nline2",
	} {
		t.Run(name, func(t *testing.T) {
			for _, profile := range annotations.Profiles {
				out, err := Build(annotations.PKCS12, Request{KeyPair: f.kp, CAs: f.cas(), Password: password, Alias: "a", Profile: profile})
				if err != nil {
					t.Fatal(err)
				}
				checkPKCS12Keystore(t, out["keystore.p12"], password, "a", f.kp)
				checkPKCS12Truststore(t, out["truststore.p12"], password, f.cas())
			}
			out, err := Build(annotations.JKS, Request{KeyPair: f.kp, CAs: f.cas(), Password: password, Alias: "a"})
			if err != nil {
				t.Fatal(err)
			}
			ks := loadJKS(t, out["keystore.jks"], password)
			if _, err := ks.GetPrivateKeyEntry("a", []byte(password)); err != nil {
				t.Error(err)
			}
			loadJKS(t, out["truststore.jks"], password)
		})
	}
}

func TestBuildErrors(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	tests := map[string]struct {
		format annotations.Format
		req    Request
		want   string
	}{
		"no key pair, jks":    {annotations.JKS, Request{Password: "x"}, "no key pair"},
		"no key pair, pkcs12": {annotations.PKCS12, Request{Password: "x"}, "no key pair"},
		"empty password, jks": {annotations.JKS, Request{KeyPair: f.kp}, "empty password"},
		"empty password, p12": {annotations.PKCS12, Request{KeyPair: f.kp}, "empty password"},
		"unknown format":      {annotations.Format("pem"), Request{KeyPair: f.kp, Password: "x"}, "unknown format"},
		"empty format":        {annotations.Format(""), Request{KeyPair: f.kp, Password: "x"}, "unknown format"},
		"upper-case format":   {annotations.Format("JKS"), Request{KeyPair: f.kp, Password: "x"}, "unknown format"},
		"unknown profile":     {annotations.PKCS12, Request{KeyPair: f.kp, Password: "x", Profile: "modern2099"}, "unknown PKCS#12 profile"},
		"upper-case profile":  {annotations.PKCS12, Request{KeyPair: f.kp, Password: "x", Profile: "MODERN2023"}, "unknown PKCS#12 profile"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := Build(tc.format, tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if out != nil {
				t.Error("output with an error")
			}
		})
	}
}

func TestBuildProfileDefaults(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	// The empty profile is modern2023; JKS ignores the profile entirely.
	out, err := Build(annotations.PKCS12, Request{KeyPair: f.kp, Password: "changeit"})
	if err != nil {
		t.Fatal(err)
	}
	checkPKCS12Keystore(t, out["keystore.p12"], "changeit", annotations.DefaultAlias, f.kp)
	var pfx pfxPDU
	if err := unmarshalAll(out["keystore.p12"], &pfx); err != nil {
		t.Fatal(err)
	}
	if !pfx.MacData.Mac.Algorithm.Algorithm.Equal(oidSHA256) {
		t.Errorf("default profile MAC %v, want HMAC-SHA-256 (modern2023)", pfx.MacData.Mac.Algorithm.Algorithm)
	}
	if _, err := Build(annotations.JKS, Request{KeyPair: f.kp, Password: "changeit", Profile: "anything"}); err != nil {
		t.Errorf("JKS with an unknown profile: %v", err)
	}
}

// TestBuildProfilesMAC checks the MAC algorithm each profile writes.
func TestBuildProfilesMAC(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	want := map[annotations.Profile]string{
		annotations.Modern2023: oidSHA256.String(),
		annotations.Modern2026: oidPBMAC1.String(),
		annotations.LegacyRC2:  oidSHA1.String(),
		annotations.LegacyDES:  oidSHA1.String(),
	}
	for _, p := range annotations.Profiles {
		out, err := Build(annotations.PKCS12, Request{KeyPair: f.kp, CAs: f.cas(), Password: "changeit", Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range out {
			var pfx pfxPDU
			if err := unmarshalAll(v, &pfx); err != nil {
				t.Fatal(err)
			}
			if got := pfx.MacData.Mac.Algorithm.Algorithm.String(); got != want[p] {
				t.Errorf("%s %s: MAC %s, want %s", p, k, got, want[p])
			}
		}
	}
}

func TestTrustAlias(t *testing.T) {
	key := testpki.Key(t, testpki.ECDSA, 60)
	suffix := regexp.MustCompile(`^(.*)-([0-9a-f]{16})$`)
	tests := map[string]struct {
		cn   string
		want string // the name before the fingerprint
	}{
		"simple":                {"My Root CA", "my-root-ca"},
		"dots are kept":         {"ca.example.com", "ca.example.com"},
		"empty":                 {"", "ca"},
		"only punctuation":      {"***", "ca"},
		"leading punctuation":   {"--Root--", "root"},
		"trailing dot":          {"root.", "root"},
		"runs collapse":         {"a  &  b", "a-b"},
		"non-ASCII is dropped":  {"Ünïcode Root", "n-code-root"},
		"digits":                {"CA 2024", "ca-2024"},
		"capped at 48":          {strings.Repeat("abcdefghij", 10), strings.Repeat("abcdefghij", 4) + "abcdefgh"},
		"cap then trailing sep": {strings.Repeat("a", 47) + " b", strings.Repeat("a", 47)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := testpki.Issue(t, testpki.Template{CommonName: tc.cn, IsCA: true, Key: key}, nil).Cert
			got := TrustAlias(c)
			m := suffix.FindStringSubmatch(got)
			if m == nil {
				t.Fatalf("TrustAlias = %q, want name-<16 hex>", got)
			}
			if m[1] != tc.want {
				t.Errorf("name %q, want %q", m[1], tc.want)
			}
			fp := pki.Fingerprint(c)
			if m[2] != hex.EncodeToString(fp[:8]) {
				t.Errorf("suffix %q is not the first 8 bytes of the SHA-256 fingerprint", m[2])
			}
			if got != strings.ToLower(got) {
				t.Errorf("%q is not lower case, JKS would change it", got)
			}
			if TrustAlias(c) != got {
				t.Error("not stable")
			}
		})
	}
}

func TestTrustAliasDistinguishesSameName(t *testing.T) {
	a := testpki.Issue(t, testpki.Template{CommonName: "Root", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 61)}, nil).Cert
	b := testpki.Issue(t, testpki.Template{CommonName: "Root", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 61)}, nil).Cert
	if TrustAlias(a) == TrustAlias(b) {
		t.Errorf("two certificates named Root share the alias %q", TrustAlias(a))
	}
	reparsed, err := x509.ParseCertificate(bytes.Clone(a.Raw))
	if err != nil {
		t.Fatal(err)
	}
	if TrustAlias(reparsed) != TrustAlias(a) {
		t.Error("alias depends on more than the certificate's DER")
	}
}

// TestBuildTruststoreOrderIndependent builds truststores from permutations
// of the same CAs, with duplicates, and compares what they hold.
func TestBuildTruststoreOrderIndependent(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	r, i, x := f.chain.Root.Cert, f.chain.Intermediate.Cert, f.extraCA.Cert
	orders := [][]*x509.Certificate{
		{r, i, x},
		{x, i, r},
		{i, x, r, r},
		{x, x, i, r, i},
	}
	want := pki.UniqueSorted([]*x509.Certificate{r, i, x})
	for _, profile := range annotations.Profiles {
		t.Run(string(profile), func(t *testing.T) {
			for _, cas := range orders {
				out, err := Build(annotations.PKCS12, Request{KeyPair: f.kp, CAs: cas, Password: "changeit", Profile: profile})
				if err != nil {
					t.Fatal(err)
				}
				got, err := pkcs12.DecodeTrustStore(out["truststore.p12"], "changeit")
				if err != nil {
					t.Fatal(err)
				}
				if !testpki.SameCerts(got, want) {
					t.Errorf("CAs %v gave truststore %v, want %v", testpki.CommonNames(cas), testpki.CommonNames(got), testpki.CommonNames(want))
				}
				checkPKCS12Truststore(t, out["truststore.p12"], "changeit", cas)
			}
		})
	}
	for _, cas := range orders {
		out, err := Build(annotations.JKS, Request{KeyPair: f.kp, CAs: cas, Password: "changeit"})
		if err != nil {
			t.Fatal(err)
		}
		checkJKSTruststore(t, loadJKS(t, out["truststore.jks"], "changeit"), want)
	}
}

func TestBuildDoesNotModifyRequest(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	cas := []*x509.Certificate{f.extraCA.Cert, f.chain.Root.Cert, f.extraCA.Cert}
	before := slices.Clone(cas)
	chain := slices.Clone(f.kp.Chain)
	for _, format := range []annotations.Format{annotations.JKS, annotations.PKCS12} {
		if _, err := Build(format, Request{KeyPair: f.kp, CAs: cas, Password: "changeit"}); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(cas, before) || !slices.Equal(f.kp.Chain, chain) {
		t.Error("Build reordered or de-duplicated the caller's slices")
	}
}

// TestIndexedTrustAliases: cert-utils compatibility names the truststore's
// certificates alias0, alias1, ... in the truststore's sorted order, in
// keystores and bundle truststores, and only then.
func TestIndexedTrustAliases(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	cas := []*x509.Certificate{f.extraCA.Cert, f.chain.Root.Cert, f.extraCA.Cert}
	sorted := pki.UniqueSorted(cas)
	out, err := Build(annotations.JKS, Request{KeyPair: f.kp, CAs: cas, Password: "changeme", Alias: "alias", TrustAliases: annotations.AliasIndexed})
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := Truststores([]annotations.Format{annotations.JKS}, cas, "changeme", annotations.Modern2023, annotations.AliasIndexed)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"keystore's truststore": out["truststore.jks"], "bundle truststore": bundle["truststore.jks"]} {
		ts := loadJKS(t, data, "changeme")
		if got := ts.Aliases(); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"alias0", "alias1"}) {
			t.Fatalf("%s: aliases %q, want alias0, alias1", name, got)
		}
		for i, c := range sorted {
			e, err := ts.GetTrustedCertificateEntry(fmt.Sprintf("alias%d", i))
			if err != nil || !bytes.Equal(e.Certificate.Content, c.Raw) {
				t.Errorf("%s: alias%d does not hold %s: %v", name, i, c.Subject.CommonName, err)
			}
		}
	}
	ks := loadJKS(t, out["keystore.jks"], "changeme")
	if !ks.IsPrivateKeyEntry("alias") {
		t.Errorf("keystore aliases %q, want the key under alias", ks.Aliases())
	}
	stable := TruststoresFingerprint([]annotations.Format{annotations.JKS}, cas, "changeme", annotations.Modern2023, annotations.AliasStable)
	indexed := TruststoresFingerprint([]annotations.Format{annotations.JKS}, cas, "changeme", annotations.Modern2023, annotations.AliasIndexed)
	if stable == indexed {
		t.Error("the alias scheme does not count in the truststores fingerprint")
	}
}
