// Package fingerprint summarises the inputs of an output, so that certinel
// rewrites the output only when an input changed.
package fingerprint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Version prefixes every fingerprint; bump it when the encoding of the
// inputs or of the outputs changes, so outputs are rebuilt once.
const Version = "v1"

// Of returns an HMAC-SHA-256, keyed with secret, of the parts. Each part is
// length-prefixed, so ("ab","c") and ("a","bc") differ. When a password is
// an input, pass it as secret: the fingerprint then changes with the
// password, yet reveals nothing about it that the stores themselves do not.
func Of(secret []byte, parts ...[]byte) string {
	m := hmac.New(sha256.New, secret)
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write(p)
	}
	return Version + ":" + hex.EncodeToString(m.Sum(nil))
}
