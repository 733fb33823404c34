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
	for _, e := range entries(s) {
		if v, ok := s.Data[e.key]; ok && e.digest != "" && slices.Contains(f.Keys, e.key) && Digest(v) != e.digest {
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
