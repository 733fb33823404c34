package reload

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// hashDomain starts every hashed encoding. Change its version when the
// encoding changes.
const hashDomain = "certinel.io/config-hash v1"

// Hash is the value of certinel.io/config-hash for refs: the SHA-256, in
// lower-case hex, of a canonical encoding of, for each ref in order (the
// order References returns), its kind, name and key, whether it is present,
// and its data. data returns the data of a ref's object and whether the
// object exists; for a ConfigMap, its data and binaryData merged (see
// ConfigMapData). A key ref counts only that key, present when the object
// exists and has it; a whole-object ref counts every key. A missing object
// (or key) hashes as absent, whether the ref is optional or not: warning
// about it is the caller's business. Nothing else enters the hash: not
// metadata, not Optional, not the order of a map.
//
// Every string and value is length-prefixed, so no two different inputs
// share an encoding.
func Hash(refs []Ref, data func(Ref) (map[string][]byte, bool)) string {
	e := encoder{h: sha256.New()}
	e.bytes([]byte(hashDomain))
	e.uint(uint64(len(refs)))
	for _, r := range refs {
		e.bytes([]byte(r.Kind))
		e.bytes([]byte(r.Name))
		e.bytes([]byte(r.Key))
		d, exists := data(r)
		if !exists {
			e.uint(0)
			continue
		}
		if r.Key != "" {
			v, ok := d[r.Key]
			if !ok {
				e.uint(0)
				continue
			}
			e.uint(1)
			e.bytes(v)
			continue
		}
		e.uint(1)
		e.uint(uint64(len(d)))
		for _, k := range slices.Sorted(maps.Keys(d)) {
			e.bytes([]byte(k))
			e.bytes(d[k])
		}
	}
	return hex.EncodeToString(e.h.Sum(nil))
}

// encoder writes length-prefixed fields into a hash.
type encoder struct {
	h hash.Hash
	n [8]byte
}

func (e *encoder) uint(n uint64) {
	binary.BigEndian.PutUint64(e.n[:], n)
	e.h.Write(e.n[:])
}

func (e *encoder) bytes(b []byte) {
	e.uint(uint64(len(b)))
	e.h.Write(b)
}

// isHash reports whether v has the form of a Hash.
func isHash(v string) bool {
	if len(v) != 2*sha256.Size {
		return false
	}
	for _, c := range []byte(v) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ConfigMapData is what Hash counts of a ConfigMap: its data and binaryData
// in one map (the API server keeps their keys apart), so that a key moved
// from one to the other with the same bytes changes nothing. The values of
// binaryData are shared, not copied.
func ConfigMapData(cm *corev1.ConfigMap) map[string][]byte {
	out := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		out[k] = []byte(v)
	}
	maps.Copy(out, cm.BinaryData)
	return out
}
