package status

import (
	"encoding/base64"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/certinel/certinel/pkg/annotations"
)

// FromUnstructured keeps of u what status reads. Of a Secret or ConfigMap
// that carries no certinel annotation it keeps only tls.crt (an Ingress
// may name it); of the others only the certificate fields.
func FromUnstructured(u *unstructured.Unstructured) Object {
	o := Object{
		Kind:          u.GetKind(),
		Namespace:     u.GetNamespace(),
		Name:          u.GetName(),
		UID:           string(u.GetUID()),
		Annotations:   u.GetAnnotations(),
		ManagedFields: u.GetManagedFields(),
	}
	if ref := metav1.GetControllerOfNoCopy(u); ref != nil {
		o.Controller = ref.Kind + "/" + ref.Name
	}
	ours := annotations.HasAny(o.Annotations)
	if !ours {
		// Only a Secret's tls.crt is ever read of such an object (an Ingress
		// may name it): not its annotations (kubectl's last-applied copy
		// holds the whole object) nor its managedFields.
		o.Annotations, o.ManagedFields, o.Controller = nil, nil, ""
	}
	switch o.Kind {
	case KindSecret:
		data, _, _ := unstructured.NestedStringMap(u.Object, "data")
		o.Data = decodeAll(data, ours)
	case KindConfigMap:
		data, _, _ := unstructured.NestedStringMap(u.Object, "data")
		binary, _, _ := unstructured.NestedStringMap(u.Object, "binaryData")
		o.Data = decodeAll(binary, ours)
		for k, v := range data {
			if ours || k == annotations.TLSCertKey {
				o.Data[k] = []byte(v)
			}
		}
	case KindRoute:
		if c, ok, _ := unstructured.NestedString(u.Object, "spec", "tls", "certificate"); ok {
			o.Data = map[string][]byte{RouteCertificateKey: []byte(c)}
		}
	case KindValidatingWebhookConfiguration, KindMutatingWebhookConfiguration:
		hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
		for _, h := range hooks {
			if m, ok := h.(map[string]any); ok {
				if b, ok, _ := unstructured.NestedString(m, "clientConfig", "caBundle"); ok && b != "" {
					o.Data = decodeAll(map[string]string{CABundleKey: b}, true)
					break
				}
			}
		}
	case KindCustomResourceDefinition:
		if b, ok, _ := unstructured.NestedString(u.Object, "spec", "conversion", "webhook", "clientConfig", "caBundle"); ok {
			o.Data = decodeAll(map[string]string{CABundleKey: b}, true)
		}
	case KindAPIService:
		if b, ok, _ := unstructured.NestedString(u.Object, "spec", "caBundle"); ok {
			o.Data = decodeAll(map[string]string{CABundleKey: b}, true)
		}
	}
	return o
}

// decodeAll decodes the base64 values of data: all of them, or only
// tls.crt.
func decodeAll(data map[string]string, all bool) map[string][]byte {
	out := make(map[string][]byte, len(data))
	for k, v := range data {
		if !all && k != annotations.TLSCertKey {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(v); err == nil {
			out[k] = b
		}
	}
	return out
}

// FromEvent keeps of an events.k8s.io/v1 Event what status reads. Its time
// is the last time it was observed.
func FromEvent(e *eventsv1.Event) Event {
	ev := Event{
		Kind:       e.Regarding.Kind,
		Namespace:  e.Regarding.Namespace,
		Name:       e.Regarding.Name,
		UID:        string(e.Regarding.UID),
		Type:       e.Type,
		Reason:     e.Reason,
		Note:       e.Note,
		Controller: e.ReportingController,
		Time:       e.EventTime.Time,
	}
	if ev.Controller == "" {
		ev.Controller = e.DeprecatedSource.Component
	}
	for _, t := range []metav1.Time{e.DeprecatedLastTimestamp, e.CreationTimestamp} {
		if ev.Time.IsZero() {
			ev.Time = t.Time
		}
	}
	if e.Series != nil && e.Series.LastObservedTime.After(ev.Time) {
		ev.Time = e.Series.LastObservedTime.Time
	}
	if e.DeprecatedLastTimestamp.After(ev.Time) {
		ev.Time = e.DeprecatedLastTimestamp.Time
	}
	return ev
}
