package reload

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/certinel/certinel/pkg/annotations"
)

// Ref is a Secret or ConfigMap, in the workload's namespace, whose data a
// workload depends on.
type Ref struct {
	// Kind is annotations.SecretSource or annotations.ConfigMapSource.
	Kind annotations.SourceKind
	Name string
	// Key is the one data key that counts; "" for the whole object.
	Key string
	// Optional is true when the pod starts without the object (or key):
	// every reference to it is optional. A missing object that is not
	// optional deserves a Warning.
	Optional bool
}

// String is "kind:name", or "kind:name/key" for a key reference.
func (r Ref) String() string {
	s := string(r.Kind) + ":" + r.Name
	if r.Key != "" {
		s += "/" + r.Key
	}
	return s
}

// References lists the Secrets and ConfigMaps whose data the workload
// depends on: those of spec, and with spec.Auto every one that pod
// references in volumes and projected volumes (whole objects),
// env[].valueFrom (that key) and envFrom (whole objects), of its
// containers, init containers and ephemeral containers. The result is
// sorted by kind, name and key, unique, and a whole-object reference
// absorbs the key references to the same object; it is optional only if
// every reference it stands for is.
func References(spec Spec, pod corev1.PodSpec) []Ref {
	refs := slices.Concat(spec.Secrets, spec.ConfigMaps)
	if spec.Auto {
		refs = append(refs, podRefs(&pod)...)
	}
	return normalize(refs)
}

func podRefs(pod *corev1.PodSpec) []Ref {
	var refs []Ref
	add := func(kind annotations.SourceKind, name, key string, optional *bool) {
		if name != "" {
			refs = append(refs, Ref{Kind: kind, Name: name, Key: key, Optional: ptr.Deref(optional, false)})
		}
	}
	for _, v := range pod.Volumes {
		if s := v.Secret; s != nil {
			add(annotations.SecretSource, s.SecretName, "", s.Optional)
		}
		if c := v.ConfigMap; c != nil {
			add(annotations.ConfigMapSource, c.Name, "", c.Optional)
		}
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if s := src.Secret; s != nil {
				add(annotations.SecretSource, s.Name, "", s.Optional)
			}
			if c := src.ConfigMap; c != nil {
				add(annotations.ConfigMapSource, c.Name, "", c.Optional)
			}
		}
	}
	container := func(env []corev1.EnvVar, envFrom []corev1.EnvFromSource) {
		for _, e := range env {
			if e.ValueFrom == nil {
				continue
			}
			if s := e.ValueFrom.SecretKeyRef; s != nil {
				add(annotations.SecretSource, s.Name, s.Key, s.Optional)
			}
			if c := e.ValueFrom.ConfigMapKeyRef; c != nil {
				add(annotations.ConfigMapSource, c.Name, c.Key, c.Optional)
			}
		}
		for _, e := range envFrom {
			if s := e.SecretRef; s != nil {
				add(annotations.SecretSource, s.Name, "", s.Optional)
			}
			if c := e.ConfigMapRef; c != nil {
				add(annotations.ConfigMapSource, c.Name, "", c.Optional)
			}
		}
	}
	for _, c := range pod.InitContainers {
		container(c.Env, c.EnvFrom)
	}
	for _, c := range pod.Containers {
		container(c.Env, c.EnvFrom)
	}
	for _, c := range pod.EphemeralContainers {
		container(c.Env, c.EnvFrom)
	}
	return refs
}

// normalize sorts refs by kind, name and key and merges the references to
// the same object: to the same key, or to any key of an object referenced
// whole. A merged reference is optional only if all its parts are.
func normalize(refs []Ref) []Ref {
	slices.SortFunc(refs, func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Key, b.Key))
	})
	var out []Ref
	for _, r := range refs {
		// The whole object ("" key) sorts before its keys.
		if n := len(out) - 1; n >= 0 && out[n].Kind == r.Kind && out[n].Name == r.Name && (out[n].Key == "" || out[n].Key == r.Key) {
			out[n].Optional = out[n].Optional && r.Optional
			continue
		}
		out = append(out, r)
	}
	return out
}
