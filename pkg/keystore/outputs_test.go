package keystore

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/certinfo"
	"github.com/certinel/certinel/pkg/testpki"
)

var extraSourceRef = annotations.SourceRef{Kind: annotations.SecretSource, Namespace: "trust", Name: "extra", Key: "ca.crt"}

// baseInputs asks for everything: both formats, cert-info, a ca.crt and
// one truststore source.
func baseInputs(f *fixture) Inputs {
	return Inputs{
		Spec: annotations.KeystoreSpec{
			Formats:           []annotations.Format{annotations.JKS, annotations.PKCS12},
			Alias:             "tomcat",
			Profile:           annotations.Modern2023,
			CertInfo:          true,
			TruststoreSources: []annotations.SourceRef{extraSourceRef},
		},
		TLSCert:  f.certPEM,
		TLSKey:   f.keyPEM,
		CACert:   f.chain.Root.PEM(),
		Password: "changeit",
		Sources:  []Source{{Ref: extraSourceRef, Certs: []*x509.Certificate{f.extraCA.Cert}}},
	}
}

func newPlan(t *testing.T, in Inputs) *Plan {
	t.Helper()
	p, err := NewPlan(in)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	return p
}

func TestNewPlanErrors(t *testing.T) {
	f := fixtureFor(t, testpki.RSA)
	other := fixtureFor(t, testpki.ECDSA)
	certInfoOnly := func(in *Inputs) { in.Spec.Formats = nil }
	tests := map[string]struct {
		mutate     func(*Inputs)
		wantReason string
		wantPrefix string
	}{
		"empty password with jks": {
			mutate:     func(in *Inputs) { in.Password = ""; in.Spec.Formats = []annotations.Format{annotations.JKS} },
			wantReason: badinput.InvalidPassword,
		},
		"empty password with pkcs12": {
			mutate:     func(in *Inputs) { in.Password = ""; in.Spec.Formats = []annotations.Format{annotations.PKCS12} },
			wantReason: badinput.InvalidPassword,
		},
		"garbage tls.crt": {
			mutate: func(in *Inputs) { in.TLSCert = []byte("garbage") }, wantReason: badinput.NoCertificate, wantPrefix: "tls.crt/tls.key: ",
		},
		"truncated tls.crt": {
			mutate: func(in *Inputs) { in.TLSCert = in.TLSCert[:len(in.TLSCert)/2] }, wantReason: badinput.MalformedPEM, wantPrefix: "tls.crt/tls.key: ",
		},
		"garbage CERTIFICATE block in tls.crt": {
			mutate:     func(in *Inputs) { in.TLSCert = append(bytes.Clone(in.TLSCert), garbagePEM("CERTIFICATE")...) },
			wantReason: badinput.MalformedPEM, wantPrefix: "tls.crt/tls.key: ",
		},
		"no tls.key": {
			mutate: func(in *Inputs) { in.TLSKey = nil }, wantReason: badinput.NoPrivateKey, wantPrefix: "tls.crt/tls.key: ",
		},
		"truncated tls.key": {
			mutate: func(in *Inputs) { in.TLSKey = in.TLSKey[:len(in.TLSKey)/2] }, wantReason: badinput.MalformedPEM,
		},
		"encrypted PKCS#8 tls.key": {
			mutate:     func(in *Inputs) { in.TLSKey = testpki.EncryptedPKCS8PEM(t, f.kp.Key, "pass") },
			wantReason: badinput.EncryptedPrivateKey, wantPrefix: "tls.crt/tls.key: ",
		},
		"legacy encrypted tls.key": {
			mutate: func(in *Inputs) {
				in.TLSKey = testpki.LegacyEncryptedPEM(t, testpki.Key(t, testpki.RSA, 0).(*rsa.PrivateKey), "pass")
			},
			wantReason: badinput.EncryptedPrivateKey,
		},
		"key of another certificate": {
			mutate: func(in *Inputs) { in.TLSKey = other.keyPEM }, wantReason: badinput.KeyCertificateMismatch, wantPrefix: "tls.crt/tls.key: ",
		},
		"garbage ca.crt": {
			mutate: func(in *Inputs) { in.CACert = garbagePEM("CERTIFICATE") }, wantReason: badinput.MalformedPEM, wantPrefix: "ca.crt: ",
		},
		"ca.crt without a certificate": {
			mutate: func(in *Inputs) { in.CACert = []byte("\n") }, wantReason: badinput.NoCertificate, wantPrefix: "ca.crt: ",
		},
		"cert-info only, garbage tls.crt": {
			mutate:     func(in *Inputs) { certInfoOnly(in); in.TLSCert = []byte("garbage") },
			wantReason: badinput.NoCertificate, wantPrefix: "tls.crt: ",
		},
		"cert-info only, truncated tls.crt": {
			mutate:     func(in *Inputs) { certInfoOnly(in); in.TLSCert = in.TLSCert[:len(in.TLSCert)/2] },
			wantReason: badinput.MalformedPEM, wantPrefix: "tls.crt: ",
		},
		"cert-info only, chain over the limit": {
			mutate: func(in *Inputs) {
				certInfoOnly(in)
				in.TLSCert = testpki.CertsPEM(slices.Repeat([]*x509.Certificate{f.chain.Leaf.Cert}, 11)...)
			},
			wantReason: badinput.ChainTooLong, wantPrefix: "tls.crt: ",
		},
		"ca.crt over the bundle limit": {
			mutate: func(in *Inputs) {
				in.CACert = testpki.CertsPEM(slices.Repeat([]*x509.Certificate{f.chain.Root.Cert}, 1001)...)
			},
			wantReason: badinput.BundleTooLarge, wantPrefix: "ca.crt: ",
		},
		"truststore over the limit across sources": {
			mutate: func(in *Inputs) {
				many := testpki.ManyCAs(t, 1001, testpki.Numbered("root"))
				in.Sources = []Source{{Ref: extraSourceRef, Certs: many[:600]}, {Ref: extraSourceRef, Certs: many[600:]}}
			},
			wantReason: badinput.BundleTooLarge, wantPrefix: "the truststore would hold",
		},
		"cert-info only, bad ca.crt": {
			mutate:     func(in *Inputs) { certInfoOnly(in); in.CACert = garbagePEM("CERTIFICATE") },
			wantReason: badinput.MalformedPEM, wantPrefix: "ca.crt: ",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := baseInputs(f)
			in.Sources = slices.Clone(in.Sources)
			tc.mutate(&in)
			p, err := NewPlan(in)
			e := testpki.RequireReason(t, err, tc.wantReason)
			if !strings.HasPrefix(e.Message, tc.wantPrefix) {
				t.Errorf("message %q does not start with %q", e.Message, tc.wantPrefix)
			}
			if p != nil {
				t.Error("plan returned with an error")
			}
		})
	}
}

func garbagePEM(typ string) []byte {
	return []byte("-----BEGIN " + typ + "-----\nbm90IERFUg==\n-----END " + typ + "-----\n")
}

func TestNewPlanKeys(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	jks := []annotations.Format{annotations.JKS}
	both := []annotations.Format{annotations.JKS, annotations.PKCS12}
	tests := map[string]struct {
		formats  []annotations.Format
		certInfo bool
		noCA     bool
		noKey    bool
		noSource bool
		want     []string
	}{
		"jks":                              {formats: jks, want: []string{"keystore.jks", "truststore.jks"}},
		"jks without ca.crt":               {formats: jks, noCA: true, want: []string{"keystore.jks", "truststore.jks"}},
		"pkcs12":                           {formats: []annotations.Format{annotations.PKCS12}, want: []string{"keystore.p12", "truststore.p12"}},
		"both":                             {formats: both, want: []string{"keystore.jks", "keystore.p12", "truststore.jks", "truststore.p12"}},
		"everything":                       {formats: both, certInfo: true, want: annotations.KeystoreOutputKeys},
		"everything without ca.crt":        {formats: both, certInfo: true, noCA: true, want: []string{"keystore.jks", "keystore.p12", "tls.crt.info", "truststore.jks", "truststore.p12"}},
		"cert-info with ca.crt":            {certInfo: true, want: []string{"ca.crt.info", "tls.crt.info"}},
		"cert-info without ca.crt":         {certInfo: true, noCA: true, want: []string{"tls.crt.info"}},
		"cert-info alone needs no tls.key": {certInfo: true, noKey: true, want: []string{"ca.crt.info", "tls.crt.info"}},
		"sources do not make ca.crt.info":  {certInfo: true, noCA: true, want: []string{"tls.crt.info"}},
		"cert-info, no sources":            {certInfo: true, noSource: true, want: []string{"ca.crt.info", "tls.crt.info"}},
		"jks, cert-info and ca.crt":        {formats: jks, certInfo: true, want: []string{"ca.crt.info", "keystore.jks", "tls.crt.info", "truststore.jks"}},
		"nothing asked":                    {want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := baseInputs(f)
			in.Spec.Formats, in.Spec.CertInfo = tc.formats, tc.certInfo
			if tc.noCA {
				in.CACert = nil
			}
			if tc.noKey {
				in.TLSKey = nil
			}
			if tc.noSource {
				in.Sources, in.Spec.TruststoreSources = nil, nil
			}
			p := newPlan(t, in)
			if !slices.Equal(p.Keys, tc.want) {
				t.Fatalf("Keys %q, want %q", p.Keys, tc.want)
			}
			out, err := p.Render()
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(out)); !slices.Equal(got, p.Keys) {
				t.Errorf("Render wrote %q, Keys says %q", got, p.Keys)
			}
		})
	}
}

func TestRender(t *testing.T) {
	for _, kt := range testpki.KeyTypes {
		for _, profile := range annotations.Profiles {
			t.Run(string(kt)+"/"+string(profile), func(t *testing.T) {
				f := fixtureFor(t, kt)
				in := baseInputs(f)
				in.Spec.Profile = profile
				// tls.crt in the wrong order: the stores get it leaf first.
				c := f.chain
				in.TLSCert = testpki.CertsPEM(c.Root.Cert, c.Leaf.Cert, c.Intermediate.Cert)
				out, err := newPlan(t, in).Render()
				if err != nil {
					t.Fatal(err)
				}
				trusted := []*x509.Certificate{c.Root.Cert, f.extraCA.Cert}

				ks := loadJKS(t, out["keystore.jks"], "changeit")
				entry, err := ks.GetPrivateKeyEntry("tomcat", []byte("changeit"))
				if err != nil {
					t.Fatal(err)
				}
				if len(entry.CertificateChain) != 3 || !bytes.Equal(entry.CertificateChain[0].Content, c.Leaf.Cert.Raw) ||
					!bytes.Equal(entry.CertificateChain[2].Content, c.Root.Cert.Raw) {
					t.Error("JKS chain is not leaf, intermediate, root")
				}
				if key, err := x509.ParsePKCS8PrivateKey(entry.PrivateKey); err != nil || !key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(f.kp.Key) {
					t.Errorf("the JKS key is not tls.key (%v)", err)
				}
				checkJKSTruststore(t, loadJKS(t, out["truststore.jks"], "changeit"), trusted)
				checkPKCS12Keystore(t, out["keystore.p12"], "changeit", "tomcat", f.kp)
				checkPKCS12Truststore(t, out["truststore.p12"], "changeit", trusted)

				if got, want := string(out["tls.crt.info"]), certinfo.Describe(f.kp.Chain); got != want {
					t.Errorf("tls.crt.info:\n%s\nwant:\n%s", got, want)
				}
				if got, want := string(out["ca.crt.info"]), certinfo.Describe([]*x509.Certificate{c.Root.Cert}); got != want {
					t.Errorf("ca.crt.info:\n%s\nwant:\n%s", got, want)
				}
			})
		}
	}
}

func TestRenderCertInfoOnly(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	c := f.chain
	in := Inputs{
		Spec:    annotations.KeystoreSpec{CertInfo: true, Alias: annotations.DefaultAlias, Profile: annotations.Modern2023},
		TLSCert: testpki.CertsPEM(c.Leaf.Cert, c.Intermediate.Cert),
		CACert:  testpki.CertsPEM(c.Root.Cert, f.extraCA.Cert),
	}
	p := newPlan(t, in)
	out, err := p.Render()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out["tls.crt.info"]), certinfo.Describe([]*x509.Certificate{c.Leaf.Cert, c.Intermediate.Cert}); got != want {
		t.Errorf("tls.crt.info:\n%s\nwant:\n%s", got, want)
	}
	if got, want := string(out["ca.crt.info"]), certinfo.Describe([]*x509.Certificate{c.Root.Cert, f.extraCA.Cert}); got != want {
		t.Errorf("ca.crt.info lists ca.crt in another order:\n%s", got)
	}
	if len(out) != 2 {
		t.Errorf("wrote %d keys, want 2", len(out))
	}
}

func TestFingerprintStable(t *testing.T) {
	f := fixtureFor(t, testpki.RSA)
	a := newPlan(t, baseInputs(f))
	b := newPlan(t, baseInputs(f))
	if a.Fingerprint != b.Fingerprint {
		t.Fatalf("equal inputs, fingerprints %s and %s", a.Fingerprint, b.Fingerprint)
	}
	if !strings.HasPrefix(a.Fingerprint, "v1:") || len(a.Fingerprint) != len("v1:")+64 {
		t.Errorf("fingerprint %q is not v1:<64 hex>", a.Fingerprint)
	}
	if _, err := a.Render(); err != nil {
		t.Fatal(err)
	}
	if c := newPlan(t, baseInputs(f)); c.Fingerprint != a.Fingerprint {
		t.Error("fingerprint changed after Render")
	}
}

func TestFingerprintDoesNotRevealThePassword(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	// Long enough that a chance match with the hex digest is impossible.
	for _, password := range []string{"Tr0ub4dor&3-not-hex!", "changeit", "deadbeefcafe0123"} {
		in := baseInputs(f)
		in.Password = password
		fp := newPlan(t, in).Fingerprint
		sum := sha256.Sum256([]byte(password))
		for _, leak := range []string{"v1:" + password, ":" + password + ":", hex.EncodeToString(sum[:]), hex.EncodeToString([]byte(password))} {
			if strings.Contains(fp, leak) {
				t.Errorf("fingerprint %q reveals password %q (%q)", fp, password, leak)
			}
		}
		if strings.Contains(fp, password) {
			t.Errorf("fingerprint %q contains password %q", fp, password)
		}
	}
}

// TestFingerprintChanges: every input that changes the outputs changes
// the fingerprint.
func TestFingerprintChanges(t *testing.T) {
	f := fixtureFor(t, testpki.RSA)
	c := f.chain
	reissued := testpki.Issue(t, testpki.Template{CommonName: c.Leaf.Cert.Subject.CommonName, DNSNames: c.Leaf.Cert.DNSNames, Key: c.Leaf.Key}, c.Intermediate)
	other := fixtureFor(t, testpki.ECDSA)
	newCA := testpki.Issue(t, testpki.Template{CommonName: "New CA", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 70)}, nil)
	newCA2 := testpki.Issue(t, testpki.Template{CommonName: "New CA 2", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 72)}, nil)

	tests := map[string]func(*Inputs){
		"password":            func(in *Inputs) { in.Password = "changeit2" },
		"password case":       func(in *Inputs) { in.Password = "Changeit" },
		"alias":               func(in *Inputs) { in.Spec.Alias = "jetty" },
		"profile":             func(in *Inputs) { in.Spec.Profile = annotations.LegacyDES },
		"one format fewer":    func(in *Inputs) { in.Spec.Formats = []annotations.Format{annotations.JKS} },
		"other format":        func(in *Inputs) { in.Spec.Formats = []annotations.Format{annotations.PKCS12} },
		"cert-info off":       func(in *Inputs) { in.Spec.CertInfo = false },
		"certificate renewed": func(in *Inputs) { in.TLSCert = testpki.CertsPEM(reissued.Cert, c.Intermediate.Cert, c.Root.Cert) },
		"intermediate dropped": func(in *Inputs) {
			in.TLSCert = testpki.CertsPEM(c.Leaf.Cert, c.Root.Cert)
		},
		"new key and certificate": func(in *Inputs) { in.TLSCert, in.TLSKey = other.certPEM, other.keyPEM },
		"ca.crt changed":          func(in *Inputs) { in.CACert = newCA.PEM() },
		"ca.crt gains a cert":     func(in *Inputs) { in.CACert = testpki.Join(in.CACert, newCA.PEM()) },
		"ca.crt removed":          func(in *Inputs) { in.CACert = nil },
		"source content changed":  func(in *Inputs) { in.Sources[0].Certs = []*x509.Certificate{newCA.Cert} },
		"source gains a cert":     func(in *Inputs) { in.Sources[0].Certs = append(slices.Clone(in.Sources[0].Certs), newCA.Cert) },
		"source added": func(in *Inputs) {
			in.Sources = append(in.Sources, Source{Ref: annotations.SourceRef{Kind: annotations.ConfigMapSource, Namespace: "x", Name: "y", Key: "ca.crt"}, Certs: []*x509.Certificate{newCA2.Cert}})
		},
		"source removed":               func(in *Inputs) { in.Sources = nil },
		"ca.crt reordered (cert-info)": func(in *Inputs) { in.CACert = testpki.CertsPEM(c.Intermediate.Cert, c.Root.Cert) },
	}
	base := baseInputs(f)
	base.CACert = testpki.CertsPEM(c.Root.Cert, c.Intermediate.Cert)
	baseFP := newPlan(t, base).Fingerprint
	seen := map[string]string{baseFP: "base"}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			in := base
			in.Spec.Formats = slices.Clone(base.Spec.Formats)
			in.Sources = slices.Clone(base.Sources)
			mutate(&in)
			fp := newPlan(t, in).Fingerprint
			if prev, dup := seen[fp]; dup {
				t.Errorf("fingerprint equals that of %q", prev)
			}
			seen[fp] = name
		})
	}
}

// TestFingerprintIgnoresEncoding: the same certificates and key, encoded
// differently, give the same fingerprint, and so do inputs that cannot
// change the outputs.
func TestFingerprintIgnoresEncoding(t *testing.T) {
	f := fixtureFor(t, testpki.RSA)
	c := f.chain
	rsaPriv := testpki.Key(t, testpki.RSA, 0).(*rsa.PrivateKey)
	other := testpki.Issue(t, testpki.Template{CommonName: "Other CA", IsCA: true, Key: testpki.Key(t, testpki.ECDSA, 71)}, nil)

	tests := map[string]func(*Inputs){
		"CRLF tls.crt":      func(in *Inputs) { in.TLSCert = testpki.CRLF(in.TLSCert) },
		"76-column tls.crt": func(in *Inputs) { in.TLSCert = testpki.Rewrap(t, in.TLSCert, 76) },
		"text and blank lines in tls.crt": func(in *Inputs) {
			in.TLSCert = testpki.Join([]byte("subject=CN = x\n\n"), in.TLSCert, []byte("\n\ntrailing text\n"))
		},
		"tls.crt in another order": func(in *Inputs) { in.TLSCert = testpki.CertsPEM(c.Intermediate.Cert, c.Root.Cert, c.Leaf.Cert) },
		"tls.key as PKCS#8":        func(in *Inputs) { in.TLSKey = testpki.PKCS8PEM(t, rsaPriv) },
		"tls.key as PKCS#1":        func(in *Inputs) { in.TLSKey = testpki.PKCS1PEM(rsaPriv) },
		"tls.key CRLF":             func(in *Inputs) { in.TLSKey = testpki.CRLF(in.TLSKey) },
		"tls.key after a cert":     func(in *Inputs) { in.TLSKey = testpki.Join(c.Leaf.PEM(), in.TLSKey) },
		"ca.crt rewrapped":         func(in *Inputs) { in.CACert = testpki.Rewrap(t, in.CACert, 64) },
		"source with a duplicate": func(in *Inputs) {
			in.Sources[0].Certs = append(slices.Clone(in.Sources[0].Certs), in.Sources[0].Certs...)
		},
		"target":                 func(in *Inputs) { in.Spec.Target = "elsewhere" },
		"password from a secret": func(in *Inputs) { in.Spec.Password = annotations.Password{SecretName: "pw", SecretKey: "password"} },
		"sources in another order": func(in *Inputs) {
			in.CACert = nil
			in.Sources = []Source{
				{Ref: annotations.SourceRef{Kind: annotations.SecretSource, Namespace: "b", Name: "b", Key: "ca.crt"}, Certs: []*x509.Certificate{other.Cert}},
				{Ref: extraSourceRef, Certs: []*x509.Certificate{f.extraCA.Cert}},
			}
		},
	}
	base := baseInputs(f)
	baseFP := newPlan(t, base).Fingerprint
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			in := base
			in.Sources = slices.Clone(base.Sources)
			want := baseFP
			if name == "sources in another order" {
				ref := base
				ref.CACert = nil
				ref.Sources = []Source{
					{Ref: extraSourceRef, Certs: []*x509.Certificate{f.extraCA.Cert}},
					{Ref: annotations.SourceRef{Kind: annotations.SecretSource, Namespace: "b", Name: "b", Key: "ca.crt"}, Certs: []*x509.Certificate{other.Cert}},
				}
				want = newPlan(t, ref).Fingerprint
			}
			mutate(&in)
			if got := newPlan(t, in).Fingerprint; got != want {
				t.Errorf("fingerprint changed: %s -> %s", want, got)
			}
		})
	}
}

func TestFingerprintCertInfoOnly(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	in := Inputs{
		Spec:    annotations.KeystoreSpec{CertInfo: true, Alias: annotations.DefaultAlias, Profile: annotations.Modern2023},
		TLSCert: f.certPEM,
	}
	a := newPlan(t, in).Fingerprint
	in.TLSCert = testpki.Rewrap(t, f.certPEM, 76)
	if b := newPlan(t, in).Fingerprint; b != a {
		t.Error("re-encoded tls.crt changed the fingerprint")
	}
	// Only the certificates matter: these feed no store when none is asked for.
	for name, change := range map[string]func(*Inputs){
		"password": func(in *Inputs) { in.Password = "another" },
		"alias":    func(in *Inputs) { in.Spec.Alias = "other" },
		"profile":  func(in *Inputs) { in.Spec.Profile = annotations.LegacyDES },
		"source":   func(in *Inputs) { in.Sources = []Source{{Certs: []*x509.Certificate{f.chain.Root.Cert}}} },
	} {
		changed := in
		change(&changed)
		if b := newPlan(t, changed).Fingerprint; b != a {
			t.Errorf("a new %s changed the fingerprint of cert-info alone", name)
		}
	}
	in.TLSCert = testpki.CertsPEM(f.chain.Leaf.Cert)
	if b := newPlan(t, in).Fingerprint; b == a {
		t.Error("a shorter tls.crt did not change the fingerprint")
	}
}

// TestNewPlanRefusesPasswordsJavaCannotUse: the stores must open in Java
// (annotations.md section 1). Java refuses non-ASCII PKCS#12 passwords
// ("Password is not ASCII"), and keystore-go encodes a JKS password byte by
// byte where Java uses UTF-16 code units, so a JKS with a non-ASCII password
// fails Java's integrity check. Such a password is bad input.
func TestNewPlanRefusesPasswordsJavaCannotUse(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	for _, format := range []annotations.Format{annotations.JKS, annotations.PKCS12} {
		for _, password := range []string{"pässwörd", "密码密码", "key🔑"} {
			t.Run(string(format)+"/"+password, func(t *testing.T) {
				in := baseInputs(f)
				in.Spec.Formats = []annotations.Format{format}
				in.Password = password
				p, err := NewPlan(in)
				if err == nil {
					_, renderErr := p.Render()
					t.Fatalf("BUG: NewPlan accepts password %q that Java cannot use (Render: %v); want a *badinput.Error %s", password, renderErr, badinput.InvalidPassword)
				}
				testpki.RequireReason(t, err, badinput.InvalidPassword)
			})
		}
	}
	// cert-info alone builds no store: any password is fine.
	in := baseInputs(f)
	in.Spec.Formats = nil
	in.Password = "pässwörd"
	newPlan(t, in)
}

// TestJKSAliasReadableByJava: an alias that ParseKeystoreSpec accepts must
// be stored in the JKS as Java's DataInputStream.readUTF reads it (modified
// UTF-8: no 4-byte sequences, no NUL byte). Otherwise keytool fails with
// java.io.UTFDataFormatException and the whole keystore is unreadable.
func TestJKSAliasReadableByJava(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	for _, alias := range []string{"tomcat", "server ключ", "ÄÖÜ", "🔑 key", "cert𝔸"} {
		t.Run(alias, func(t *testing.T) {
			spec, err := annotations.ParseKeystoreSpec("ns", map[string]string{annotations.Keystores: "jks", annotations.KeystoreAlias: alias})
			if err != nil {
				testpki.RequireReason(t, err, badinput.InvalidAnnotation)
				return // refused: fine
			}
			out, err := Build(annotations.JKS, Request{KeyPair: f.kp, Password: "changeit", Alias: spec.Alias})
			if err != nil {
				return // refused: fine
			}
			stored := firstJKSAlias(t, out["keystore.jks"])
			if !modifiedUTF8(stored) {
				t.Errorf("BUG: alias %q is accepted and stored as % x, which Java's readUTF rejects", spec.Alias, stored)
			}
		})
	}
}

// firstJKSAlias returns the raw alias bytes of the first JKS entry: after
// magic, version and count, a 4-byte tag and a 2-byte length.
func firstJKSAlias(t *testing.T, data []byte) []byte {
	t.Helper()
	if len(data) < 18 || binary.BigEndian.Uint32(data) != 0xFEEDFEED {
		t.Fatal("not a JKS")
	}
	n := int(binary.BigEndian.Uint16(data[16:]))
	return data[18 : 18+n]
}

// modifiedUTF8 reports whether b is valid Java modified UTF-8.
func modifiedUTF8(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		var n int
		switch {
		case c >= 0x01 && c < 0x80:
			n = 1
		case c&0xE0 == 0xC0:
			n = 2
		case c&0xF0 == 0xE0:
			n = 3
		default:
			return false
		}
		if i+n > len(b) {
			return false
		}
		for _, cc := range b[i+1 : i+n] {
			if cc&0xC0 != 0x80 {
				return false
			}
		}
		i += n
	}
	return true
}

func TestRenderStoresDecodeWithPlanPassword(t *testing.T) {
	f := fixtureFor(t, testpki.ECDSA)
	in := baseInputs(f)
	in.Password = "another-Pass_123"
	out, err := newPlan(t, in).Render()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := pkcs12.DecodeChain(out["keystore.p12"], annotations.DefaultPassword); err == nil {
		t.Error("keystore.p12 opens with the default password")
	}
	checkPKCS12Keystore(t, out["keystore.p12"], "another-Pass_123", "tomcat", f.kp)
	loadJKS(t, out["truststore.jks"], "another-Pass_123")
}
