// Package ownership decides which data keys of a Secret certinel may write
// or remove. certinel lists the keys it wrote in the certinel.io/managed-keys
// annotation, and a digest of each value it wrote in
// certinel.io/managed-digests, and never touches any other key, so user data and keys written by other
// controllers survive every change. A key whose value somebody replaced
// since is left as it is and released.
package ownership

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/certinel/certinel/pkg/annotations"
)

// Feature is one kind of output certinel writes into Secrets.
type Feature struct {
	// Keys are all the data keys the feature can ever write. Only these are
	// read from managed-keys, so a hand-edited annotation cannot make
	// certinel delete anything else.
	Keys []string
	// FingerprintAnnotation records the fingerprint of the feature's inputs.
	FingerprintAnnotation string
}

// Keystores is the feature of section 1.
var Keystores = Feature{Keys: annotations.KeystoreOutputKeys, FingerprintAnnotation: annotations.KeystoresFingerprint}

// Digest is the short digest of a value certinel wrote, recorded beside its
// key so that a value replaced since is recognised. The values are stores
// and certificate descriptions, never a password.
func Digest(v []byte) string {
	sum := sha256.Sum256(v)
	return hex.EncodeToString(sum[:8])
}

// entry is one key of managed-keys with the digest of the value certinel
// wrote ("" for keys written before digests were recorded).
type entry struct{ key, digest string }

func entries(s *corev1.Secret) []entry {
	digests := map[string]string{}
	for _, item := range strings.Split(s.Annotations[annotations.ManagedDigests], ",") {
		if k, d, ok := strings.Cut(item, "="); ok {
			digests[strings.TrimSpace(k)] = strings.TrimSpace(d)
		}
	}
	var out []entry
	for _, item := range strings.Split(s.Annotations[annotations.ManagedKeys], ",") {
		// "key=digest" in managed-keys itself is read too: a development
		// build of certinel wrote digests there.
		k, d, _ := strings.Cut(item, "=")
		if k = strings.TrimSpace(k); k != "" {
			if digests[k] != "" {
				d = digests[k]
			}
			out = append(out, entry{k, strings.TrimSpace(d)})
		}
	}
	slices.SortStableFunc(out, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	return slices.CompactFunc(out, func(a, b entry) bool { return a.key == b.key })
}

// Managed returns all the data keys certinel recorded as its own on s.
func Managed(s *corev1.Secret) []string {
	var keys []string
	for _, e := range entries(s) {
		keys = append(keys, e.key)
	}
	return keys
}

// Owned returns the data keys of feature f that certinel wrote on s.
func (f Feature) Owned(s *corev1.Secret) []string {
	return slices.DeleteFunc(Managed(s), func(k string) bool { return !slices.Contains(f.Keys, k) })
}

// Replaced returns the owned keys of f whose value is no longer the one
// certinel wrote: somebody replaced it, so it is theirs now.
func (f Feature) Replaced(s *corev1.Secret) []string {
	var out []string
	held := heldRecord(s)
	for _, e := range entries(s) {
		if d, ok := digestOf(s, held, e.key); ok && e.digest != "" && slices.Contains(f.Keys, e.key) && d != e.digest {
			out = append(out, e.key)
		}
	}
	return out
}

// Conflicts returns the keys of want that s holds but certinel does not own,
// or whose value somebody replaced: writing them would overwrite somebody
// else's data.
func (f Feature) Conflicts(s *corev1.Secret, want []string) []string {
	owned, replaced := f.Owned(s), f.Replaced(s)
	var out []string
	for _, k := range want {
		if _, exists := s.Data[k]; exists && (!slices.Contains(owned, k) || slices.Contains(replaced, k)) {
			out = append(out, k)
		}
	}
	return out
}

// UpToDate reports whether s already holds exactly the outputs want, made
// from inputs with fingerprint fp.
func (f Feature) UpToDate(s *corev1.Secret, fp string, want []string) bool {
	if s.Annotations[f.FingerprintAnnotation] != fp || !slices.Equal(f.Owned(s), want) {
		return false
	}
	for _, k := range want {
		if _, ok := s.Data[k]; !ok {
			return false
		}
	}
	return true
}

// Apply makes s hold data as the feature's outputs with fingerprint fp: it
// writes data, removes the feature's keys that data no longer has, and
// updates the bookkeeping annotations. With empty data it removes every
// output of the feature and its fingerprint. Keys certinel does not own are
// never written or removed, and an owned key whose value somebody replaced
// is left as it is and no longer listed; callers check Conflicts first.
func (f Feature) Apply(s *corev1.Secret, fp string, data map[string][]byte) {
	replaced := f.Replaced(s)
	for _, k := range f.Owned(s) {
		if _, keep := data[k]; !keep && !slices.Contains(replaced, k) {
			delete(s.Data, k)
		}
	}
	if len(data) > 0 && s.Data == nil {
		s.Data = make(map[string][]byte, len(data))
	}
	maps.Copy(s.Data, data)

	var kept []entry
	for _, e := range entries(s) {
		if !slices.Contains(f.Keys, e.key) {
			kept = append(kept, e)
		}
	}
	for k, v := range data {
		kept = append(kept, entry{k, Digest(v)})
	}
	slices.SortFunc(kept, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	var keys, digests []string
	for _, e := range kept {
		keys = append(keys, e.key)
		if e.digest != "" {
			digests = append(digests, e.key+"="+e.digest)
		}
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	setOrDelete(s.Annotations, annotations.ManagedKeys, strings.Join(keys, ","))
	setOrDelete(s.Annotations, annotations.ManagedDigests, strings.Join(digests, ","))
	if len(data) == 0 {
		fp = ""
	}
	setOrDelete(s.Annotations, f.FingerprintAnnotation, fp)
}

func setOrDelete(m map[string]string, k, v string) {
	if v == "" {
		delete(m, k)
	} else {
		m[k] = v
	}
}

// HeldAnnotation marks, in certinel's cache only, a Secret whose outputs
// the cache holds as their size and digest instead of their value (Hold):
// "key=size:digest,..." in the order of the keys. Its prefix is the cache's
// own: the cache drops every such key a user wrote, and certinel never
// writes one to the API server.
const HeldAnnotation = "internal.certinel.io/outputs-held"

// Hold empties the value of every output of f that s holds and certinel
// owns, and records its size and digest in HeldAnnotation, so that a cache
// keeps a few bytes of each store it wrote instead of the store: Replaced,
// Conflicts, UpToDate, Apply and Size read the record for a value that is
// empty. It returns the values it let go, by key, so that the caller can
// record more of them. The keys of other features and keys certinel does
// not own stay as they are.
func (f Feature) Hold(s *corev1.Secret) map[string][]byte {
	var held map[string][]byte
	var record []string
	for _, k := range f.Owned(s) {
		v, ok := s.Data[k]
		if !ok || len(v) == 0 {
			continue
		}
		if held == nil {
			held = map[string][]byte{}
		}
		held[k] = v
		record = append(record, k+"="+strconv.Itoa(len(v))+":"+Digest(v))
		s.Data[k] = []byte{}
	}
	if len(held) > 0 {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[HeldAnnotation] = strings.Join(record, ",")
	}
	return held
}

// Held returns the keys of s whose values are held as a record (Hold) and
// not as they are: those recorded whose value is empty.
func Held(s *corev1.Secret) []string {
	var out []string
	for k := range heldRecord(s) {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// heldValue is what Hold recorded of one value.
type heldValue struct {
	size   int
	digest string
}

// heldRecord returns the values of s held as a record: those in
// HeldAnnotation whose value in s is empty (a value written since is read
// as it is).
func heldRecord(s *corev1.Secret) map[string]heldValue {
	rec, ok := s.Annotations[HeldAnnotation]
	if !ok {
		return nil
	}
	out := map[string]heldValue{}
	for _, item := range strings.Split(rec, ",") {
		k, v, _ := strings.Cut(item, "=")
		size, digest, _ := strings.Cut(v, ":")
		n, err := strconv.Atoi(size)
		if cur, ok := s.Data[k]; err != nil || !ok || len(cur) > 0 {
			continue
		}
		out[k] = heldValue{n, digest}
	}
	return out
}

// digestOf returns the Digest of the value of s under key, held (held is
// heldRecord(s)) or not, and whether s has the key.
func digestOf(s *corev1.Secret, held map[string]heldValue, key string) (string, bool) {
	v, ok := s.Data[key]
	if !ok {
		return "", false
	}
	if h, isHeld := held[key]; isHeld {
		return h.digest, true
	}
	return Digest(v), true
}

// Size is the size of the data of s as the API server counts it (keys and
// values), held values at the size they have there.
func Size(s *corev1.Secret) int {
	held := heldRecord(s)
	n := 0
	for k, v := range s.Data {
		n += len(k) + len(v) + held[k].size
	}
	return n
}
