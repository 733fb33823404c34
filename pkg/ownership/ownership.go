// Package ownership decides which data keys of a Secret certinel may write
// or remove. certinel lists the keys it wrote in the certinel.io/managed-keys
// annotation and never touches any other key, so user data and keys written
// by other controllers survive every change.
package ownership

import (
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

// Managed returns all the data keys certinel recorded as its own on s.
func Managed(s *corev1.Secret) []string {
	var keys []string
	for _, k := range strings.Split(s.Annotations[annotations.ManagedKeys], ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Owned returns the data keys of feature f that certinel wrote on s.
func (f Feature) Owned(s *corev1.Secret) []string {
	return slices.DeleteFunc(Managed(s), func(k string) bool { return !slices.Contains(f.Keys, k) })
}

// Conflicts returns the keys of want that s holds but certinel does not own:
// writing them would overwrite somebody else's data.
func (f Feature) Conflicts(s *corev1.Secret, want []string) []string {
	owned := f.Owned(s)
	var out []string
	for _, k := range want {
		if _, exists := s.Data[k]; exists && !slices.Contains(owned, k) {
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
// never written or removed; callers check Conflicts first.
func (f Feature) Apply(s *corev1.Secret, fp string, data map[string][]byte) {
	for _, k := range f.Owned(s) {
		if _, keep := data[k]; !keep {
			delete(s.Data, k)
		}
	}
	if len(data) > 0 && s.Data == nil {
		s.Data = make(map[string][]byte, len(data))
	}
	maps.Copy(s.Data, data)

	managed := slices.DeleteFunc(Managed(s), func(k string) bool { return slices.Contains(f.Keys, k) })
	managed = append(managed, slices.Collect(maps.Keys(data))...)
	slices.Sort(managed)
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	setOrDelete(s.Annotations, annotations.ManagedKeys, strings.Join(managed, ","))
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
