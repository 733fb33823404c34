package keystore

import (
	"crypto/x509"
	"slices"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/certinfo"
	"github.com/certinel/certinel/pkg/fingerprint"
	"github.com/certinel/certinel/pkg/pki"
)

// Source is one truststore source's certificates, as read and parsed
// from the cluster (the reader enforces consent and keeps only these).
type Source struct {
	Ref   annotations.SourceRef
	Certs []*x509.Certificate
}

// Inputs is everything the outputs of one annotated Secret depend on.
type Inputs struct {
	Spec     annotations.KeystoreSpec
	TLSCert  []byte // tls.crt of the annotated Secret
	TLSKey   []byte // tls.key
	CACert   []byte // ca.crt, may be empty
	Password string
	Sources  []Source
}

// Plan is the validated, parsed form of Inputs: its fingerprint and the data
// keys it produces are known without building anything.
type Plan struct {
	Fingerprint string
	Keys        []string

	spec     annotations.KeystoreSpec
	keyPair  *pki.KeyPair        // nil when no keystore is asked for
	keyDER   []byte              // keyPair.Key in PKCS#8, for the fingerprint and JKS
	chain    []*x509.Certificate // tls.crt, leaf first
	caCerts  []*x509.Certificate // ca.crt, in order
	trusted  []*x509.Certificate // ca.crt and sources, unique and sorted
	password string
}

// NewPlan parses and validates in. Any problem is a *badinput.Error whose
// message names the data key or source at fault.
func NewPlan(in Inputs) (*Plan, error) {
	p := &Plan{spec: in.Spec, password: in.Password}
	if len(in.Spec.Formats) > 0 {
		if err := CheckPassword(in.Password); err != nil {
			return nil, err
		}
	}
	var err error
	if len(in.Spec.Formats) > 0 {
		if p.keyPair, err = pki.ParseKeyPair(in.TLSCert, in.TLSKey); err != nil {
			return nil, badinput.Prefix(err, "tls.crt/tls.key: ")
		}
		p.chain = p.keyPair.Chain
		// Encoded once: the fingerprint covers it and JKS stores it. An
		// error here is Build's to report.
		p.keyDER, _ = x509.MarshalPKCS8PrivateKey(p.keyPair.Key)
	} else if p.chain, err = pki.ParseChain(in.TLSCert); err != nil {
		// cert-info alone needs no private key
		return nil, badinput.Prefix(err, "tls.crt: ")
	}
	if len(in.CACert) > 0 {
		if p.caCerts, err = pki.ParseCertificates(in.CACert); err != nil {
			return nil, badinput.Prefix(err, "ca.crt: ")
		}
	}
	trusted := slices.Clone(p.caCerts)
	for _, s := range in.Sources {
		trusted = append(trusted, s.Certs...)
	}
	p.trusted = pki.UniqueSorted(trusted)
	if len(p.trusted) > pki.MaxBundle {
		return nil, badinput.Errorf(badinput.BundleTooLarge,
			"the truststore would hold %d certificates (ca.crt and truststore sources); certinel writes at most %d", len(p.trusted), pki.MaxBundle)
	}
	p.Keys = in.Spec.OutputKeys(len(p.caCerts) > 0)
	p.Fingerprint = p.fingerprint()
	return p, nil
}

// CheckPassword refuses passwords Java cannot open a store with: JKS
// (keystore-go) encodes each UTF-8 byte where Java uses UTF-16 characters,
// and Java refuses non-ASCII PKCS#12 passwords.
func CheckPassword(pw string) error {
	if pw == "" {
		return badinput.Errorf(badinput.InvalidPassword, "the keystore password is empty")
	}
	for i := 0; i < len(pw); i++ {
		if pw[i] >= 0x80 {
			return badinput.Errorf(badinput.InvalidPassword, "the keystore password has non-ASCII characters, which Java cannot use for JKS or PKCS#12 stores; use ASCII")
		}
	}
	return nil
}

// fingerprint covers every input as parsed (so re-encoding the same PEM
// changes nothing), keyed with the password so a password change counts.
// cert-info alone depends on the certificates only: no password, alias,
// profile or truststore source changes it.
func (p *Plan) fingerprint() string {
	var parts [][]byte
	password := ""
	if len(p.spec.Formats) > 0 {
		password = p.password
		parts = append(parts, []byte(p.spec.Alias), []byte(p.spec.Profile))
		if p.spec.TrustAliases != annotations.AliasStable { // the default leaves former fingerprints as they were
			parts = append(parts, []byte("aliases:"+p.spec.TrustAliases))
		}
		parts = append(parts, []byte("key"), p.keyDER)
	}
	for _, f := range p.spec.Formats {
		parts = append(parts, []byte("format:"+f))
	}
	for _, k := range p.Keys {
		parts = append(parts, []byte("key:"+k))
	}
	for _, c := range p.chain {
		parts = append(parts, []byte("chain"), c.Raw)
	}
	if p.spec.CertInfo { // ca.crt as written matters only to ca.crt.info
		for _, c := range p.caCerts {
			parts = append(parts, []byte("ca"), c.Raw)
		}
	}
	if len(p.spec.Formats) > 0 {
		for _, c := range p.trusted {
			parts = append(parts, []byte("trusted"), c.Raw)
		}
	}
	return fingerprint.Of([]byte(password), parts...)
}

// Render builds every output. It is the expensive step: call it only when
// the fingerprint differs from the one recorded on the output Secret.
func (p *Plan) Render() (map[string][]byte, error) {
	out := make(map[string][]byte, len(p.Keys))
	req := Request{KeyPair: p.keyPair, KeyDER: p.keyDER, CAs: p.trusted, Password: p.password, Alias: p.spec.Alias, Profile: p.spec.Profile, TrustAliases: p.spec.TrustAliases}
	for _, f := range p.spec.Formats {
		stores, err := Build(f, req)
		if err != nil {
			return nil, err
		}
		for k, v := range stores {
			out[k] = v
		}
	}
	if p.spec.CertInfo {
		out[annotations.TLSCertInfoKey] = []byte(certinfo.Describe(p.chain))
		if len(p.caCerts) > 0 {
			out[annotations.CACertInfoKey] = []byte(certinfo.Describe(p.caCerts))
		}
	}
	return out, nil
}
