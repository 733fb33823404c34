package controllers

import (
	"encoding/json"
	"slices"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestSecretPatch: applied to the Secret it was made from, secretMergePatch
// gives the same Secret as controller-runtime's merge patch with an
// optimistic lock, and it locks on the same resourceVersion; and so it does
// from a patchBase taken before the change, as the keystore controller
// makes it.
func TestSecretPatch(t *testing.T) {
	base := func() *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", ResourceVersion: "42",
				Labels:      map[string]string{"app": "web"},
				Annotations: map[string]string{"certinel.io/keystores": "jks", "user": "kept"},
				OwnerReferences: []metav1.OwnerReference{
					{APIVersion: "v1", Kind: "Secret", Name: "src", UID: "u1", Controller: ptr.To(true)},
					{APIVersion: "apps/v1", Kind: "Deployment", Name: "d", UID: "u2"}},
			},
			Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": []byte("cert"), "tls.key": []byte("key"), "keystore.jks": {0, 1, 2}},
		}
	}
	for name, change := range map[string]func(s *corev1.Secret){
		"nothing":             func(s *corev1.Secret) {},
		"new data key":        func(s *corev1.Secret) { s.Data["truststore.jks"] = []byte{9, 8, 7} },
		"changed data key":    func(s *corev1.Secret) { s.Data["keystore.jks"] = []byte{3} },
		"removed data key":    func(s *corev1.Secret) { delete(s.Data, "keystore.jks") },
		"empty value":         func(s *corev1.Secret) { s.Data["keystore.jks"] = []byte{} },
		"all data removed":    func(s *corev1.Secret) { s.Data = nil },
		"annotations changed": func(s *corev1.Secret) { s.Annotations["certinel.io/fingerprint"] = "fp"; delete(s.Annotations, "user") },
		"annotations removed": func(s *corev1.Secret) { s.Annotations = nil },
		"label added":         func(s *corev1.Secret) { s.Labels["app.kubernetes.io/managed-by"] = "certinel" },
		"owner removed":       func(s *corev1.Secret) { s.OwnerReferences = s.OwnerReferences[1:] },
		"owners removed":      func(s *corev1.Secret) { s.OwnerReferences = nil },
		"owner removed in place": func(s *corev1.Secret) {
			s.OwnerReferences = slices.DeleteFunc(s.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == "u1" })
		},
		"keys with json characters": func(s *corev1.Secret) {
			s.Annotations[`a"b\c`] = "</script>\u2028"
			s.Data[`k"ey`] = []byte{0xff}
		},
	} {
		t.Run(name, func(t *testing.T) {
			want, got := base(), base()
			change(want)
			change(got)
			reference, err := client.MergeFromWithOptions(base(), client.MergeFromWithOptimisticLock{}).Data(want)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := secretMergePatch(base(), got)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := applyPatch(t, base(), reference), applyPatch(t, base(), ours); !equality.Semantic.DeepEqual(a, b) {
				t.Errorf("patched Secrets differ:\nmerge from: %+v\nsecretMergePatch: %+v\n(patches %s and %s)", a, b, reference, ours)
			}
			changed := base()
			pb := patchBase(changed)
			change(changed)
			fromBase, err := secretMergePatch(pb, changed)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := applyPatch(t, base(), reference), applyPatch(t, base(), fromBase); !equality.Semantic.DeepEqual(a, b) {
				t.Errorf("patched Secrets differ:\nmerge from: %+v\nfrom patchBase: %+v\n(patches %s and %s)", a, b, reference, fromBase)
			}
			var p struct {
				Metadata struct {
					ResourceVersion string `json:"resourceVersion"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(ours, &p); err != nil || p.Metadata.ResourceVersion != "42" {
				t.Errorf("patch %s does not lock on resourceVersion 42 (%v)", ours, err)
			}
		})
	}
}

func applyPatch(t *testing.T, s *corev1.Secret, patch []byte) *corev1.Secret {
	t.Helper()
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonpatch.MergePatch(doc, patch)
	if err != nil {
		t.Fatalf("patch %s: %v", patch, err)
	}
	var patched corev1.Secret
	if err := json.Unmarshal(out, &patched); err != nil {
		t.Fatal(err)
	}
	return &patched
}
