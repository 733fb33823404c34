// Package expiry is section 5 of the contract without a client: the
// validity of the certificates a Secret holds, a compact form of it that
// the cache keeps instead of the data, and when to warn and when to look
// again.
package expiry

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
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
// out; present keys without a parsable certificate are Unreadable.
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
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return Validity{Key: key, Unreadable: true}
		}
		return Validity{Key: key, NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC()}
	}
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
