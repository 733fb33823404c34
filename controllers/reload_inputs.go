package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/keystore"
	"github.com/certinel/certinel/pkg/ownership"
	"github.com/certinel/certinel/pkg/reload"
)

// digestParser keeps, of a referenced object, only the reload digest of
// what ref counts (one key or all), and whether it opted out of reloads.
func digestParser(ref reload.Ref) parser {
	return parser{id: "reload:" + ref.Key, readsHeld: true, parse: func(obj client.Object) sourceValue {
		ignored, _ := reload.Ignored(obj.GetAnnotations())
		var data map[string][]byte
		switch o := obj.(type) {
		case *corev1.Secret:
			if d, ok := heldDigest(o, ref.Key); ok {
				return sourceValue{ignored: ignored, digest: d}
			}
			data = o.Data
		case *corev1.ConfigMap:
			data = reload.ConfigMapData(o)
		}
		return sourceValue{ignored: ignored, digest: reloadHash(ref, data)}
	}}
}

// reloadDigest is the reload digest of the Secret name with data, or of
// its key (when not "").
func reloadDigest(name, key string, data map[string][]byte) string {
	return reloadHash(reload.Ref{Kind: annotations.SecretSource, Name: name, Key: key}, data)
}

// reloadHash is the reload digest of ref, whose object has data.
func reloadHash(ref reload.Ref, data map[string][]byte) string {
	return reload.Hash([]reload.Ref{ref}, func(reload.Ref) (map[string][]byte, bool) { return data, true })
}

// keystoresPending reports a Secret that asks for keystores whose stores
// do not yet match its certificate, password and sources: certinel is
// about to rewrite them, and pods started now would read the old ones.
func (r *ReloadReconciler) keystoresPending(ctx context.Context, rd *sourceReads, ns, name string) bool {
	var s corev1.Secret
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &s); err != nil || isTrimmed(&s) {
		return false
	}
	spec, err := annotations.ParseKeystoreSpec(ns, s.Annotations)
	if err != nil || !spec.Enabled() {
		return false
	}
	in, err := keystoreInputs(ctx, rd, &s, spec)
	if err != nil {
		return false // bad input: no keystore is coming
	}
	plan, err := keystore.NewPlan(in)
	if err != nil {
		return false
	}
	out := &s
	if spec.Target != "" {
		var t corev1.Secret
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: spec.Target}, &t); err != nil {
			return true // the target is about to be created
		}
		if !controlledBy(&t, &s) {
			return false // TargetConflict: no keystore is coming
		}
		out = &t
	}
	if len(keystoreConflicts(&s, out, plan.Keys)) > 0 {
		return false // DataKeyConflict: no keystore is coming
	}
	return !ownership.Keystores.UpToDate(out, plan.Fingerprint, plan.Keys)
}
