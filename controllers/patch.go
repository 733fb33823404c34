package controllers

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// secretMergePatch is a JSON merge patch, with an optimistic lock, from
// base to s. It carries only what certinel changes on a Secret: labels,
// annotations, owner references and data keys. It is what
// client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})
// sends, without marshalling both whole Secrets and diffing them, which at
// a cold start with a thousand keystores was a large part of certinel's CPU.
func secretMergePatch(base, s *corev1.Secret) ([]byte, error) {
	meta := map[string]any{"resourceVersion": base.ResourceVersion}
	if d := stringsDiff(base.Labels, s.Labels); d != nil {
		meta["labels"] = d
	}
	if d := stringsDiff(base.Annotations, s.Annotations); d != nil {
		// The cache's own keys (internalPrefix) never reach the API server.
		maps.DeleteFunc(d, func(k string, _ any) bool { return strings.HasPrefix(k, internalPrefix) })
		if len(d) > 0 {
			meta["annotations"] = d
		}
	}
	if !reflect.DeepEqual(base.OwnerReferences, s.OwnerReferences) {
		meta["ownerReferences"] = s.OwnerReferences // a list is replaced whole; none is null
	}
	patch := map[string]any{"metadata": meta}
	if d := diff(base.Data, s.Data, func(a, b []byte) bool { return string(a) == string(b) }); d != nil {
		patch["data"] = d
	}
	return json.Marshal(patch)
}

// patchBase copies of s what secretMergePatch compares, for a base to
// change s from: the maps and the owner references are copies, the data
// values are shared (a write replaces a value, it never changes one). A
// deep copy of a Secret with a thousand keystores' worth of inputs was, at
// a cold start, 3% of all that certinel allocated, twice per keystore.
func patchBase(s *corev1.Secret) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       s.Namespace,
			Name:            s.Name,
			ResourceVersion: s.ResourceVersion,
			Labels:          maps.Clone(s.Labels),
			Annotations:     maps.Clone(s.Annotations),
			OwnerReferences: slices.Clone(s.OwnerReferences),
		},
		Type: s.Type,
		Data: maps.Clone(s.Data),
	}
}

// stringsDiff is the merge patch of a string map from base to m.
func stringsDiff(base, m map[string]string) map[string]any {
	return diff(base, m, func(a, b string) bool { return a == b })
}

// diff is the merge patch of a map from base to m: changed and new keys
// with their values, removed keys as null, nil when nothing changed.
func diff[V any](base, m map[string]V, equal func(a, b V) bool) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if old, ok := base[k]; !ok || !equal(old, v) {
			out[k] = v
		}
	}
	for k := range base {
		if _, ok := m[k]; !ok {
			out[k] = nil
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// applyFields applies a, an apply configuration holding only certinel's
// fields, under field manager certinel, and asks the API server to answer
// with the object's metadata only: certinel does not read the answer, and a
// whole Route, webhook configuration or bundle would otherwise be encoded,
// sent and decoded for nothing (at a cold start, a thousand times).
func applyFields(ctx context.Context, c client.Client, a *unstructured.Unstructured, force bool) error {
	body, err := json.Marshal(a.Object)
	if err != nil {
		return err
	}
	m := partialObject(a.GroupVersionKind(), a.GetNamespace(), a.GetName())
	opts := []client.PatchOption{client.FieldOwner(fieldOwner)}
	if force {
		opts = append(opts, client.ForceOwnership)
	}
	return c.Patch(ctx, m, client.RawPatch(types.ApplyPatchType, body), opts...)
}

// patchSecret writes s, changed from base, with a secretMergePatch, and asks the
// API server to answer with the Secret's metadata only: s already holds what
// was written (the optimistic lock guarantees nobody wrote in between), so
// only its new resourceVersion is taken from the answer, and the keystores
// just sent are not sent back.
func patchSecret(ctx context.Context, c client.Client, s, base *corev1.Secret) error {
	data, err := secretMergePatch(base, s)
	if err != nil {
		return err
	}
	m := partialObject(corev1.SchemeGroupVersion.WithKind("Secret"), s.Namespace, s.Name)
	if err := c.Patch(ctx, m, client.RawPatch(types.MergePatchType, data)); err != nil {
		return err
	}
	s.ResourceVersion = m.ResourceVersion
	return nil
}

// partialObject names an object for a write through the metadata client,
// whose answer holds the object's metadata only.
func partialObject(gvk schema.GroupVersionKind, namespace, name string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	m.SetNamespace(namespace)
	m.SetName(name)
	return m
}
