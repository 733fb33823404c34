// Package reload is the pure groundwork of workload reloads (section 4 of
// the annotation contract): what a Deployment, StatefulSet or DaemonSet
// asks for, which Secrets and ConfigMaps its pod template references, a
// canonical hash of their data, and whether to roll now, later or not at
// all. It has no client and no clock of its own: the caller passes the
// objects' data and the time in.
//
// In certinel.io/reload-secrets and certinel.io/reload-configmaps, an item
// "name/key" means that only that key's data counts: a shared ConfigMap
// whose other keys change rolls nothing. A bare "name" counts every key.
package reload

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
)

// AutoValue is the only value of certinel.io/reload.
const AutoValue = "auto"

// Spec is what the section 4 annotations of a workload ask for.
type Spec struct {
	// Secrets and ConfigMaps are the references listed explicitly, each of
	// its kind, never optional, sorted by name then key and unique. Key ""
	// is the whole object, and a whole object absorbs its keys: "a,a/x"
	// is "a".
	Secrets    []Ref
	ConfigMaps []Ref
	// Auto adds every Secret and ConfigMap the pod template references.
	Auto bool
}

// ParseSpec reads the reload annotations of a workload. asks is true when
// any of certinel.io/reload-secrets, certinel.io/reload-configmaps or
// certinel.io/reload is set, even to an empty list. An invalid value yields
// a *badinput.Error with reason InvalidAnnotation and a zero Spec.
func ParseSpec(ann map[string]string) (spec Spec, asks bool, err error) {
	if v, ok := ann[annotations.Reload]; ok {
		asks = true
		if v = strings.TrimSpace(v); !strings.EqualFold(v, AutoValue) {
			return Spec{}, true, invalid(annotations.Reload, v,
				`"auto" (or remove it and list the objects in `+annotations.ReloadSecrets+" and "+annotations.ReloadConfigMaps+")")
		}
		spec.Auto = true
	}
	for _, l := range []struct {
		key  string
		kind annotations.SourceKind
		dst  *[]Ref
	}{
		{annotations.ReloadSecrets, annotations.SecretSource, &spec.Secrets},
		{annotations.ReloadConfigMaps, annotations.ConfigMapSource, &spec.ConfigMaps},
	} {
		v, ok := ann[l.key]
		if !ok {
			continue
		}
		asks = true
		if *l.dst, err = parseList(l.key, l.kind, v); err != nil {
			return Spec{}, true, err
		}
	}
	return spec, asks, nil
}

// parseList reads a comma-separated list of "name" and "name/key" items.
func parseList(key string, kind annotations.SourceKind, v string) ([]Ref, error) {
	var refs []Ref
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, dataKey, hasKey := strings.Cut(item, "/")
		r := Ref{Kind: kind, Name: strings.TrimSpace(name), Key: strings.TrimSpace(dataKey)}
		if len(validation.IsDNS1123Subdomain(r.Name)) > 0 ||
			(hasKey && len(validation.IsConfigMapKey(r.Key)) > 0) {
			return nil, invalid(key, item, `a comma-separated list of "name" or "name/key" of `+kindNoun(kind)+
				"s in the workload's namespace (a lower-case DNS name, then a data key of letters, digits, '-', '_' or '.')")
		}
		refs = append(refs, r)
	}
	return normalize(refs), nil
}

func kindNoun(kind annotations.SourceKind) string {
	if kind == annotations.SecretSource {
		return "Secret"
	}
	return "ConfigMap"
}

// Ignored reports whether a Secret or ConfigMap opted out of reloads with
// certinel.io/reload-ignore: "true". A value other than "true" or "false"
// (any case) is an InvalidAnnotation error, and the object is not ignored:
// a typo never silently stops reloads.
func Ignored(ann map[string]string) (bool, error) {
	v, ok := ann[annotations.ReloadIgnore]
	if !ok {
		return false, nil
	}
	switch v = strings.TrimSpace(v); strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalid(annotations.ReloadIgnore, v, `"true" or "false"`)
}

// Baseline returns the hash recorded under certinel.io/config-hash in ann,
// or "" when there is none or it is not a hash Hash could have written (a
// hand-edited value): the caller then records a new baseline and rolls
// nothing.
func Baseline(ann map[string]string) string {
	v := ann[annotations.ConfigHash]
	if !isHash(v) {
		return ""
	}
	return v
}

func invalid(key, v, want string) error {
	return badinput.Errorf(badinput.InvalidAnnotation, "%s: invalid value %s: want %s", key, badinput.Quote(v), want)
}
