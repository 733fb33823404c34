// Package expiry is section 5 of the contract without a client: the
// validity of the certificates a Secret holds, a compact form of it that
// the cache keeps instead of the data, and when to warn and when to look
// again.
package expiry

import (
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Validity is the validity of the first certificate of one data key.
type Validity struct {
	Key string
	// Unreadable is true when the key holds no parsable certificate; the
	// times are zero then and must never be exported as dates.
	Unreadable bool
	NotBefore  time.Time
	NotAfter   time.Time
}

// maxPEMScan bounds the bytes searched for the first certificate of a
// key: a hostile Secret of megabytes of text costs no more than this.
const maxPEMScan = 64 << 10

// Read returns the validity of the first CERTIFICATE block of each key
// present in data, in the order of keys. Keys absent from data are left
// out; present keys without a certificate whose structure and validity
// parse are Unreadable.
func Read(data map[string][]byte, keys ...string) []Validity {
	var out []Validity
	for _, k := range keys {
		v, ok := data[k]
		if !ok || slices.ContainsFunc(out, func(o Validity) bool { return o.Key == k }) {
			continue
		}
		out = append(out, first(k, v))
	}
	return out
}

func first(key string, data []byte) Validity {
	if len(data) > maxPEMScan {
		data = data[:maxPEMScan]
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return Validity{Key: key, Unreadable: true}
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		notBefore, notAfter, err := validityOf(b.Bytes)
		if err != nil {
			return Validity{Key: key, Unreadable: true}
		}
		return Validity{Key: key, NotBefore: notBefore.UTC(), NotAfter: notAfter.UTC()}
	}
}

var errNotACertificate = errors.New("not an X.509 certificate")

// validityOf reads the validity of a DER certificate and walks the rest of
// its outer structure, as x509.ParseCertificate does, without parsing the
// public key, names and extensions. The cache transform reads every Secret
// it is given, on every change, and the full parse was then a tenth of
// certinel's allocations at a cold start; a certificate Go cannot parse
// for other reasons still has the dates a TLS client compares.
func validityOf(der []byte) (notBefore, notAfter time.Time, err error) {
	input := cryptobyte.String(der)
	var cert, tbs, validity cryptobyte.String
	if !input.ReadASN1(&cert, cbasn1.SEQUENCE) || !input.Empty() ||
		!cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!cert.SkipASN1(cbasn1.SEQUENCE) || // signatureAlgorithm
		!cert.SkipASN1(cbasn1.BIT_STRING) || // signatureValue
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || // version
		!tbs.SkipASN1(cbasn1.INTEGER) || // serialNumber
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // signature
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // issuer
		!tbs.ReadASN1(&validity, cbasn1.SEQUENCE) {
		return time.Time{}, time.Time{}, errNotACertificate
	}
	if notBefore, err = readTime(&validity); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if notAfter, err = readTime(&validity); err != nil {
		return time.Time{}, time.Time{}, err
	}
	// Like x509, whatever follows notAfter in the validity is ignored.
	return notBefore, notAfter, nil
}

// readTime reads a UTCTime or a GeneralizedTime, the two forms RFC 5280
// allows in a validity.
func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if s.ReadASN1UTCTime(&t) {
			return t, nil
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if s.ReadASN1GeneralizedTime(&t) {
			return t, nil
		}
	}
	return time.Time{}, errNotACertificate
}

// Encode is the compact form the cache keeps of a Secret's validities:
// "key=notBefore:notAfter" in Unix seconds, or "key=!" when unreadable,
// joined by ",". Data keys hold only letters, digits, "-", "_" and ".", so
// the form is unambiguous.
func Encode(vs []Validity) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		if v.Unreadable {
			parts = append(parts, v.Key+"=!")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%d:%d", v.Key, v.NotBefore.Unix(), v.NotAfter.Unix()))
	}
	return strings.Join(parts, ",")
}

// Decode reads what Encode wrote.
func Decode(s string) ([]Validity, error) {
	if s == "" {
		return nil, nil
	}
	var out []Validity
	for _, p := range strings.Split(s, ",") {
		key, val, ok := strings.Cut(p, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("expiry: malformed validity %q", p)
		}
		if val == "!" {
			out = append(out, Validity{Key: key, Unreadable: true})
			continue
		}
		nb, na, ok := strings.Cut(val, ":")
		b, err1 := strconv.ParseInt(nb, 10, 64)
		a, err2 := strconv.ParseInt(na, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("expiry: malformed validity %q", p)
		}
		out = append(out, Validity{Key: key, NotBefore: time.Unix(b, 0).UTC(), NotAfter: time.Unix(a, 0).UTC()})
	}
	return out, nil
}
