package annotations

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ManagedFields lists the fields of a Route or Ingress that certinel set,
// so that it keeps setting (and, when asked no more, removes) exactly
// those: e.g. "tls.certificate,tls.key,tls.termination".
const ManagedFields = Prefix + "managed-fields"

// RouteSpec is what the section 3 annotations of a Route ask for.
type RouteSpec struct {
	// CertsFrom is the Secret (same namespace) whose certificate, key and
	// CAs go into spec.tls; "" for none.
	CertsFrom string
	// DestinationCAFrom is the Secret (same namespace) whose ca.crt goes
	// into spec.tls.destinationCACertificate; "" for none.
	DestinationCAFrom string
	// InjectCA is false when caCertificate is left alone.
	InjectCA bool
}

// ParseRouteSpec reads the section 3 annotations of a Route. asks is false
// when the Route asks for nothing.
func ParseRouteSpec(ann map[string]string) (spec RouteSpec, asks bool, err error) {
	spec.InjectCA = true
	for key, dst := range map[string]*string{CertsFromSecret: &spec.CertsFrom, DestinationCAFromSecret: &spec.DestinationCAFrom} {
		v, ok := ann[key]
		if !ok {
			continue
		}
		asks = true
		v = strings.TrimSpace(v)
		if errs := validation.IsDNS1123Subdomain(v); len(errs) > 0 {
			return RouteSpec{}, true, invalid(key, v, "the name of a Secret in the Route's namespace (a Route never reads another namespace)")
		}
		*dst = v
	}
	if v, ok := ann[InjectCA]; ok {
		inject, err := parseBool(InjectCA, strings.TrimSpace(v))
		if err != nil || (!inject && strings.TrimSpace(v) == "") {
			return RouteSpec{}, asks, invalid(InjectCA, v, `"true" or "false"`)
		}
		spec.InjectCA = inject
	}
	return spec, asks, nil
}

// ParseIngressSecret reads certinel.io/certs-from-secret of an Ingress in
// namespace ns: "[namespace/]name".
func ParseIngressSecret(ns string, ann map[string]string) (ref SourceRef, asks bool, err error) {
	v, ok := ann[CertsFromSecret]
	if !ok {
		return SourceRef{}, false, nil
	}
	v = strings.TrimSpace(v)
	ref = SourceRef{Kind: SecretSource, Namespace: ns, Key: TLSCertKey}
	parts := strings.Split(v, "/")
	switch len(parts) {
	case 1:
		ref.Name = parts[0]
	case 2:
		ref.Namespace, ref.Name = parts[0], parts[1]
	default:
		return SourceRef{}, true, invalid(CertsFromSecret, v, `"name" or "namespace/name" of a TLS Secret`)
	}
	if len(validation.IsDNS1123Label(ref.Namespace)) > 0 || len(validation.IsDNS1123Subdomain(ref.Name)) > 0 {
		return SourceRef{}, true, invalid(CertsFromSecret, v, `"name" or "namespace/name" of a TLS Secret`)
	}
	return ref, true, nil
}
