package controllers

import (
	"context"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/pkg/badinput"
)

// injectTarget is one kind of object that receives CA bundles (section 2
// of the contract). The injection controller is the same for every kind;
// a kind only says where its bundles are. Objects are handled as
// unstructured, so no kind needs a typed client or a scheme.
type injectTarget struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	// few: a cluster has only tens of these (webhook configurations,
	// APIServices), so the controller runs at most fewWorkers.
	few bool
	// current returns the bundles the object holds now, one per place
	// certinel writes, or bad input when the object cannot take a bundle.
	// key is the data key of a ConfigMap or Secret target.
	current func(u *unstructured.Unstructured, key string) ([][]byte, error)
	// set writes bundle at every place of u into the apply object a.
	set func(u, a *unstructured.Unstructured, key string, bundle []byte)
	// keep lists the fields of the object the cache keeps (besides
	// metadata) for a target that asks for injection.
	keep [][]string
	// setStore writes a binary store (truststore.jks, .p12) into the
	// apply object a; ConfigMaps and Secrets only.
	setStore func(a *unstructured.Unstructured, key string, v []byte)
}

var (
	validatingWebhooks = webhookTarget("ValidatingWebhookConfiguration")
	mutatingWebhooks   = webhookTarget("MutatingWebhookConfiguration")
	crdConversion      = injectTarget{
		gvk:  schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"},
		keep: [][]string{{"spec", "conversion"}},
		current: func(u *unstructured.Unstructured, _ string) ([][]byte, error) {
			if strategy, _, _ := unstructured.NestedString(u.Object, "spec", "conversion", "strategy"); strategy != "Webhook" {
				return nil, badinput.Errorf(badinput.TargetNotInjectable,
					"CustomResourceDefinition %s has no conversion webhook (spec.conversion.strategy is %q, not Webhook): there is no caBundle to inject", u.GetName(), strategy)
			}
			return [][]byte{caBundleAt(u.Object, "spec", "conversion", "webhook", "clientConfig", "caBundle")}, nil
		},
		set: func(_, a *unstructured.Unstructured, _ string, bundle []byte) {
			_ = unstructured.SetNestedField(a.Object, base64.StdEncoding.EncodeToString(bundle), "spec", "conversion", "webhook", "clientConfig", "caBundle")
		},
	}
	apiService = injectTarget{
		gvk:  schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIService"},
		few:  true,
		keep: [][]string{{"spec", "caBundle"}, {"spec", "insecureSkipTLSVerify"}, {"spec", "service"}},
		current: func(u *unstructured.Unstructured, _ string) ([][]byte, error) {
			if insecure, _, _ := unstructured.NestedBool(u.Object, "spec", "insecureSkipTLSVerify"); insecure {
				return nil, badinput.Errorf(badinput.TargetNotInjectable,
					"APIService %s sets spec.insecureSkipTLSVerify, which the API server does not allow with a caBundle; set it to false", u.GetName())
			}
			if svc, _, _ := unstructured.NestedMap(u.Object, "spec", "service"); svc == nil {
				return nil, badinput.Errorf(badinput.TargetNotInjectable, "APIService %s is served locally (no spec.service): there is no caBundle to inject", u.GetName())
			}
			return [][]byte{caBundleAt(u.Object, "spec", "caBundle")}, nil
		},
		set: func(_, a *unstructured.Unstructured, _ string, bundle []byte) {
			_ = unstructured.SetNestedField(a.Object, base64.StdEncoding.EncodeToString(bundle), "spec", "caBundle")
		},
	}
	configMapTarget = injectTarget{
		gvk: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, namespaced: true,
		current: func(u *unstructured.Unstructured, key string) ([][]byte, error) {
			v, _, _ := unstructured.NestedString(u.Object, "data", key)
			return [][]byte{[]byte(v)}, nil
		},
		set: func(_, a *unstructured.Unstructured, key string, bundle []byte) {
			_ = unstructured.SetNestedField(a.Object, string(bundle), "data", key)
		},
		setStore: func(a *unstructured.Unstructured, key string, v []byte) {
			_ = unstructured.SetNestedField(a.Object, base64.StdEncoding.EncodeToString(v), "binaryData", key)
		},
	}
	secretTarget = injectTarget{
		gvk: schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, namespaced: true,
		current: func(u *unstructured.Unstructured, key string) ([][]byte, error) {
			return [][]byte{caBundleAt(u.Object, "data", key)}, nil
		},
		set: func(_, a *unstructured.Unstructured, key string, bundle []byte) {
			_ = unstructured.SetNestedField(a.Object, base64.StdEncoding.EncodeToString(bundle), "data", key)
		},
		setStore: func(a *unstructured.Unstructured, key string, v []byte) {
			_ = unstructured.SetNestedField(a.Object, base64.StdEncoding.EncodeToString(v), "data", key)
		},
	}
)

// injectTargets are every kind that takes CA bundles.
var injectTargets = []injectTarget{validatingWebhooks, mutatingWebhooks, crdConversion, apiService, configMapTarget, secretTarget}

// webhookTarget is a webhook configuration: every webhook's clientConfig.
func webhookTarget(kind string) injectTarget {
	return injectTarget{
		gvk:  schema.GroupVersionKind{Group: "admissionregistration.k8s.io", Version: "v1", Kind: kind},
		few:  true,
		keep: [][]string{{"webhooks"}},
		current: func(u *unstructured.Unstructured, _ string) ([][]byte, error) {
			hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
			var out [][]byte
			for _, h := range hooks {
				if m, ok := h.(map[string]any); ok {
					out = append(out, caBundleAt(m, "clientConfig", "caBundle"))
				}
			}
			if len(out) == 0 {
				return nil, badinput.Errorf(badinput.TargetNotInjectable, "%s %s has no webhooks: there is no caBundle to inject", kind, u.GetName())
			}
			return out, nil
		},
		set: func(u, a *unstructured.Unstructured, _ string, bundle []byte) {
			hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
			var out []any
			for _, h := range hooks {
				name, _, _ := unstructured.NestedString(h.(map[string]any), "name")
				out = append(out, map[string]any{
					"name":         name,
					"clientConfig": map[string]any{"caBundle": base64.StdEncoding.EncodeToString(bundle)},
				})
			}
			_ = unstructured.SetNestedSlice(a.Object, out, "webhooks")
		},
	}
}

// dataAt is the value of a data key of a ConfigMap (data, then binaryData)
// or a Secret.
func dataAt(u *unstructured.Unstructured, key string) []byte {
	if u.GetKind() == "ConfigMap" {
		if v, ok, _ := unstructured.NestedString(u.Object, "data", key); ok {
			return []byte(v)
		}
		return caBundleAt(u.Object, "binaryData", key)
	}
	return caBundleAt(u.Object, "data", key)
}

// storeAt is a binary store of a ConfigMap (binaryData) or a Secret.
func storeAt(u *unstructured.Unstructured, key string) []byte {
	if u.GetKind() == "ConfigMap" {
		return caBundleAt(u.Object, "binaryData", key)
	}
	return caBundleAt(u.Object, "data", key)
}

// maxDataSize is what the API server lets a Secret or a ConfigMap hold.
const maxDataSize = 1 << 20

// checkApplySize refuses an apply that would make a ConfigMap or Secret
// hold more than it may, before the API server refuses it.
func checkApplySize(u, a *unstructured.Unstructured) error {
	if u.GetKind() != "ConfigMap" && u.GetKind() != "Secret" {
		return nil
	}
	sizes := map[string]int{} // a's values replace u's
	for _, obj := range []*unstructured.Unstructured{u, a} {
		for _, part := range []string{"data", "binaryData"} {
			m, _, _ := unstructured.NestedStringMap(obj.Object, part)
			for k, v := range m {
				n := len(v)
				if part == "binaryData" || u.GetKind() == "Secret" {
					n = base64.StdEncoding.DecodedLen(len(v))
				}
				sizes[part+"/"+k] = len(k) + n
			}
		}
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	if total <= maxDataSize {
		return nil
	}
	return badinput.Errorf(badinput.OutputTooLarge, "%s %s would hold %d KiB, over the %d KiB it may; ask for one truststore format, or write them to a ConfigMap or Secret of their own",
		u.GetKind(), u.GetName(), (total+1023)/1024, maxDataSize/1024)
}

// caBundleAt decodes the base64 bundle at path of obj; nil when absent or
// not base64.
func caBundleAt(obj map[string]any, path ...string) []byte {
	v, _, _ := unstructured.NestedString(obj, path...)
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	return b
}

// trimInjectTarget keeps of a cluster-scoped injection target only its
// metadata, and for one that asks for injection the fields where its
// bundles are: CRDs carry schemas of hundreds of KiB that certinel never reads.
func trimInjectTarget(u *unstructured.Unstructured, asks bool) {
	for _, t := range injectTargets {
		if t.gvk != u.GroupVersionKind() || t.namespaced {
			continue
		}
		kept := map[string]any{"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "metadata": u.Object["metadata"]}
		if asks {
			for _, path := range t.keep {
				if v, found, _ := unstructured.NestedFieldNoCopy(u.Object, path...); found {
					_ = unstructured.SetNestedField(kept, v, path...)
				}
			}
		}
		u.Object = kept
		return
	}
}

func (t injectTarget) String() string { return fmt.Sprintf("%s.%s", t.gvk.Kind, t.gvk.Group) }

// get reads the target from the cache as unstructured: typed kinds
// (ConfigMaps and Secrets, cached once for every controller) are converted.
func (r *InjectReconciler) get(ctx context.Context, req ctrl.Request) (*unstructured.Unstructured, error) {
	obj := r.newObject()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return nil, err
	}
	return toUnstructured(obj, r.target)
}

func (r *InjectReconciler) newObject() client.Object {
	switch r.target.gvk {
	case configMapTarget.gvk:
		return &corev1.ConfigMap{}
	case secretTarget.gvk:
		return &corev1.Secret{}
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(r.target.gvk)
	return u
}

// newList is a list of the target kind, typed where the cache is typed.
func (r *InjectReconciler) newList() client.ObjectList {
	switch r.target.gvk {
	case configMapTarget.gvk:
		return &corev1.ConfigMapList{}
	case secretTarget.gvk:
		return &corev1.SecretList{}
	}
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(r.target.gvk.GroupVersion().WithKind(r.target.gvk.Kind + "List"))
	return l
}

func toUnstructured(obj client.Object, t injectTarget) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(t.gvk)
	return u, nil
}
