// Package keystore builds Java keystores and truststores (JKS and PKCS#12)
// from a key pair and CA certificates. It is the one code path used by the
// operator and by `certinel keystore`.
package keystore

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/fingerprint"
	"github.com/certinel/certinel/pkg/pki"
)

// Request is everything a set of stores is built from.
type Request struct {
	KeyPair *pki.KeyPair
	// KeyDER is KeyPair.Key in PKCS#8, when the caller has it already
	// (NewPlan's fingerprint covers it); Build encodes the key otherwise.
	KeyDER []byte
	// CAs are the truststore's certificates; they are de-duplicated and
	// sorted, so their order does not matter.
	CAs      []*x509.Certificate
	Password string
	Alias    string
	Profile  annotations.Profile
	// TrustAliases names the truststore's certificates (default: TrustAlias).
	TrustAliases annotations.AliasScheme
}

// Build returns the data keys and contents of the stores of format f:
// keystore.jks and truststore.jks, or keystore.p12 and truststore.p12.
func Build(f annotations.Format, r Request) (map[string][]byte, error) {
	if r.KeyPair == nil {
		return nil, fmt.Errorf("keystore: no key pair")
	}
	if r.Password == "" {
		return nil, fmt.Errorf("keystore: empty password")
	}
	if r.Alias == "" {
		r.Alias = annotations.DefaultAlias
	}
	cas := pki.UniqueSorted(r.CAs)
	switch f {
	case annotations.JKS:
		ks, err := keystoreJKS(r)
		if err != nil {
			return nil, err
		}
		ts, err := truststoreJKS(cas, r.Password, r.TrustAliases)
		if err != nil {
			return nil, err
		}
		return map[string][]byte{annotations.KeystoreJKSKey: ks, annotations.TruststoreJKSKey: ts}, nil
	case annotations.PKCS12:
		enc, err := encoder(r.Profile)
		if err != nil {
			return nil, err
		}
		ks, err := keystorePKCS12(enc, r)
		if err != nil {
			return nil, err
		}
		ts, err := truststorePKCS12(enc, cas, r.Password, r.TrustAliases)
		if err != nil {
			return nil, err
		}
		return map[string][]byte{annotations.KeystorePKCS12Key: ks, annotations.TruststorePKCS12Key: ts}, nil
	}
	return nil, fmt.Errorf("keystore: unknown format %q", f)
}

func keystoreJKS(r Request) ([]byte, error) {
	ks := jks.New()
	chain := make([]jks.Certificate, len(r.KeyPair.Chain))
	for i, c := range r.KeyPair.Chain {
		chain[i] = jks.Certificate{Type: "X509", Content: c.Raw}
	}
	der := r.KeyDER
	if der == nil {
		var err error
		if der, err = x509.MarshalPKCS8PrivateKey(r.KeyPair.Key); err != nil {
			return nil, fmt.Errorf("keystore: encode private key: %w", err)
		}
	}
	entry := jks.PrivateKeyEntry{
		CreationTime:     creationTime(r.KeyPair.Leaf()),
		PrivateKey:       der,
		CertificateChain: chain,
	}
	if err := ks.SetPrivateKeyEntry(r.Alias, entry, []byte(r.Password)); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return storeJKS(ks, r.Password)
}

func truststoreJKS(cas []*x509.Certificate, password string, scheme annotations.AliasScheme) ([]byte, error) {
	ts := jks.New()
	for i, c := range cas {
		entry := jks.TrustedCertificateEntry{
			CreationTime: creationTime(c),
			Certificate:  jks.Certificate{Type: "X509", Content: c.Raw},
		}
		if err := ts.SetTrustedCertificateEntry(trustAlias(c, i, scheme), entry); err != nil {
			return nil, fmt.Errorf("truststore: %w", err)
		}
	}
	return storeJKS(ts, password)
}

func storeJKS(ks jks.KeyStore, password string) ([]byte, error) {
	var buf bytes.Buffer
	if err := ks.Store(&buf, []byte(password)); err != nil {
		return nil, fmt.Errorf("keystore: write JKS: %w", err)
	}
	return buf.Bytes(), nil
}

// creationTime makes the entry date a function of the certificate, not of
// the clock, so equal inputs describe equal entries.
func creationTime(c *x509.Certificate) time.Time { return c.NotBefore.UTC() }

func encoder(p annotations.Profile) (*pkcs12.Encoder, error) {
	switch p {
	case annotations.Modern2023, "":
		return pkcs12.Modern2023, nil
	case annotations.Modern2026:
		return pkcs12.Modern2026, nil
	case annotations.LegacyRC2:
		return pkcs12.LegacyRC2, nil
	case annotations.LegacyDES:
		return pkcs12.LegacyDES, nil
	}
	return nil, fmt.Errorf("keystore: unknown PKCS#12 profile %q", p)
}

func keystorePKCS12(enc *pkcs12.Encoder, r Request) ([]byte, error) {
	chain := r.KeyPair.Chain
	pfx, err := enc.Encode(r.KeyPair.Key, chain[0], chain[1:], r.Password)
	if err != nil {
		return nil, fmt.Errorf("keystore: write PKCS#12: %w", err)
	}
	return setKeyFriendlyName(pfx, r.Password, r.Alias)
}

func truststorePKCS12(enc *pkcs12.Encoder, cas []*x509.Certificate, password string, scheme annotations.AliasScheme) ([]byte, error) {
	entries := make([]pkcs12.TrustStoreEntry, len(cas))
	for i, c := range cas {
		entries[i] = pkcs12.TrustStoreEntry{Cert: c, FriendlyName: trustAlias(c, i, scheme)}
	}
	pfx, err := enc.EncodeTrustStoreEntries(entries, password)
	if err != nil {
		return nil, fmt.Errorf("truststore: write PKCS#12: %w", err)
	}
	return pfx, nil
}

// trustAlias is the alias of the i-th certificate of a truststore (in
// its sorted order) under scheme.
func trustAlias(c *x509.Certificate, i int, scheme annotations.AliasScheme) string {
	if scheme == annotations.AliasIndexed {
		return "alias" + strconv.Itoa(i)
	}
	return TrustAlias(c)
}

// TrustAlias is the stable alias of a CA certificate in a truststore: its
// common name made alias-safe, then the first 8 bytes of its SHA-256
// fingerprint, e.g. "my-root-ca-3f2a9b1c0d4e5f60". It depends only on the
// certificate, never on its position.
func TrustAlias(c *x509.Certificate) string {
	var b strings.Builder
	for _, r := range strings.ToLower(c.Subject.CommonName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 48 {
			break
		}
	}
	name := strings.Trim(b.String(), "-.")
	if name == "" {
		name = "ca"
	}
	fp := pki.Fingerprint(c)
	return name + "-" + hex.EncodeToString(fp[:8])
}

// Truststores returns the truststores of formats holding cas (truststore.jks
// and/or truststore.p12), for a CA bundle that comes without a key pair.
func Truststores(formats []annotations.Format, cas []*x509.Certificate, password string, profile annotations.Profile, scheme annotations.AliasScheme) (map[string][]byte, error) {
	if password == "" {
		return nil, fmt.Errorf("truststore: empty password")
	}
	cas = pki.UniqueSorted(cas)
	out := map[string][]byte{}
	for _, f := range formats {
		switch f {
		case annotations.JKS:
			ts, err := truststoreJKS(cas, password, scheme)
			if err != nil {
				return nil, err
			}
			out[annotations.TruststoreJKSKey] = ts
		case annotations.PKCS12:
			enc, err := encoder(profile)
			if err != nil {
				return nil, err
			}
			ts, err := truststorePKCS12(enc, cas, password, scheme)
			if err != nil {
				return nil, err
			}
			out[annotations.TruststorePKCS12Key] = ts
		default:
			return nil, fmt.Errorf("truststore: unknown format %q", f)
		}
	}
	return out, nil
}

// TruststoresFingerprint summarises every input of Truststores, keyed with
// the password: equal fingerprints mean equal stores, so non-deterministic
// PKCS#12 bytes are rebuilt only when an input changed.
func TruststoresFingerprint(formats []annotations.Format, cas []*x509.Certificate, password string, profile annotations.Profile, scheme annotations.AliasScheme) string {
	parts := [][]byte{[]byte("truststores"), []byte(profile)}
	if scheme != annotations.AliasStable { // the default leaves former fingerprints as they were
		parts = append(parts, []byte("aliases:"+scheme))
	}
	for _, f := range formats {
		parts = append(parts, []byte("format:"+f))
	}
	for _, c := range pki.UniqueSorted(cas) {
		parts = append(parts, c.Raw)
	}
	return fingerprint.Of([]byte(password), parts...)
}
