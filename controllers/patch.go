package controllers

import (
	"encoding/json"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// secretPatch is a JSON merge patch, with an optimistic lock, from base to
// the Secret it is applied with. It carries only what certinel changes on a
// Secret: labels, annotations, owner references and data keys. It is
// client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})
// without marshalling both whole Secrets and diffing them, which at a cold
// start with a thousand keystores was a large part of certinel's CPU.
type secretPatch struct{ base *corev1.Secret }

func (p secretPatch) Type() types.PatchType { return types.MergePatchType }

func (p secretPatch) Data(obj client.Object) ([]byte, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return nil, fmt.Errorf("secretPatch applied to %T", obj)
	}
	meta := map[string]any{"resourceVersion": p.base.ResourceVersion}
	if d := stringsDiff(p.base.Labels, s.Labels); d != nil {
		meta["labels"] = d
	}
	if d := stringsDiff(p.base.Annotations, s.Annotations); d != nil {
		meta["annotations"] = d
	}
	if !reflect.DeepEqual(p.base.OwnerReferences, s.OwnerReferences) {
		meta["ownerReferences"] = s.OwnerReferences // a list is replaced whole
		if s.OwnerReferences == nil {
			meta["ownerReferences"] = nil
		}
	}
	patch := map[string]any{"metadata": meta}
	if d := diff(p.base.Data, s.Data, func(a, b []byte) bool { return string(a) == string(b) }); d != nil {
		patch["data"] = d
	}
	return json.Marshal(patch)
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

var _ client.Patch = secretPatch{}

