package controllers

import (
	"crypto/rand"
	"encoding/hex"
	"maps"
	"reflect"
	"slices"
	"strings"

	routev1 "github.com/openshift/api/route/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/expiry"
	"github.com/certinel/certinel/pkg/ownership"
)

// lastApplied is kubectl's copy of the whole object; for a Secret it holds
// the data a second time.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// trimmedMark marks, in the cache only, a Secret or ConfigMap whose data
// the cache transform dropped, so that no reader takes the trimmed copy for
// the whole object. It is outside the certinel.io/ prefix on purpose: it is
// not part of the contract and never written to the API server (certinel
// patches only objects whose data the cache keeps).
const trimmedMark = "internal.certinel.io/data-trimmed"

// TrimForCache is the cache transform: it drops what certinel never reads
// (managedFields, kubectl's last-applied copy) and the data of every Secret
// and ConfigMap that asks certinel for nothing (annotations.NeedsData): no
// private key, bundle or password of such an object is held in memory.
// Their metadata stays, so they are still watched; when one is referenced
// (a truststore source, a password Secret), SourceReader reads it from the
// API server and keeps only what it parsed. The one exception is made by
// CacheTransform: the TLS keys of a Secret that a Route or an Ingress in
// its namespace reads (PairSources).
func TrimForCache(obj any) (any, error) {
	return trimForCache(annotations.Compat{}, nil, obj)
}

// CacheTransform is TrimForCache with the compatibility modes of c: the
// cache holds the annotations of cert-utils-operator and Reloader
// translated into certinel's (annotations.Compat.Translate), so that every
// controller, index and watch reads them as its own keys. Only the cache
// holds the translation: certinel's writes are merge patches of what it
// changed or applies of its own fields, which never carry it back.
// The cache keeps the TLS keys of the Secrets in pairs.
func CacheTransform(c annotations.Compat, pairs *PairSources) func(any) (any, error) {
	return func(obj any) (any, error) { return trimForCache(c, pairs, obj) }
}

// transformedMark marks, in the cache only, an object this process's
// transform made, with a token no user can know: client-go may run the
// transform again on an object it already transformed (streaming lists do,
// on every list), which must change nothing; and every other
// internal.certinel.io/ key on an object comes from a user and is dropped.
const transformedMark = "internal.certinel.io/transformed"

// cacheToken is this process's value of transformedMark.
var cacheToken = func() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

func trimForCache(c annotations.Compat, pairs *PairSources, obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		if o.GetAnnotations()[transformedMark] == cacheToken {
			return obj, nil
		}
		dropInternal(o)
		trimMetadata(o)
		translate(c, o)
		defer setAnnotation(o, transformedMark, cacheToken)
	}
	switch o := obj.(type) {
	case *corev1.Secret:
		summariseValidity(o)
		if annotations.NeedsData(o.Annotations) {
			holdOutputs(o)
		} else {
			o.StringData = nil
			// An Ingress's mirror is another namespace's key: never kept.
			if _, mirror := o.Annotations[annotations.MirrorOf]; !mirror && pairs.Has(o.Namespace, o.Name) && keepOnly(o, pairKeys, maxKeptPair) {
				break
			}
			o.Data = nil
			markTrimmed(o)
		}
	case *corev1.ConfigMap:
		if !annotations.NeedsData(o.Annotations) {
			o.Data, o.BinaryData = nil, nil
			markTrimmed(o)
		}
	case *routev1.Route:
		// A Route certinel is not asked about keeps no private key or
		// certificate in memory: certinel reads only its annotations.
		if tls := o.Spec.TLS; tls != nil && !annotations.HasAny(o.Annotations) {
			tls.Key, tls.Certificate, tls.CACertificate, tls.DestinationCACertificate = "", "", "", ""
		} else if _, certs := o.Annotations[annotations.CertsFromSecret]; tls != nil && !certs {
			tls.Key = "" // the Route's own key: certinel never sets or compares it
		}
	case *appsv1.Deployment:
		trimWorkload(o, &o.Spec.Template)
	case *appsv1.StatefulSet:
		trimWorkload(o, &o.Spec.Template)
	case *appsv1.DaemonSet:
		trimWorkload(o, &o.Spec.Template)
	case *unstructured.Unstructured:
		_, fromSecret := o.GetAnnotations()[annotations.InjectCAFrom]
		_, fromConfigMap := o.GetAnnotations()[annotations.InjectCAFromConfigMap]
		trimInjectTarget(o, fromSecret || fromConfigMap)
	}
	return obj, nil
}

// internalPrefix starts the keys only the cache holds.
const internalPrefix = "internal.certinel.io/"

// dropInternal removes the cache-only keys a user put on an object: the
// cache trusts only the ones its transform wrote.
func dropInternal(o metav1.Object) {
	ann := o.GetAnnotations()
	for k := range ann {
		if strings.HasPrefix(k, internalPrefix) {
			delete(ann, k)
		}
	}
}

func setAnnotation(o metav1.Object, k, v string) {
	ann := o.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[k] = v
	o.SetAnnotations(ann)
}

// translate sets the effective annotations of o under the compatibility
// modes of c. With none, it only drops the cache-only keys a user copied
// onto an object.
func translate(c annotations.Compat, o metav1.Object) {
	ann := o.GetAnnotations()
	var kind string
	var template map[string]string
	switch t := o.(type) {
	case *corev1.Secret:
		kind = "Secret"
	case *corev1.ConfigMap:
		kind = "ConfigMap"
	case *routev1.Route:
		kind = "Route"
	case *appsv1.Deployment:
		kind, template = "Deployment", t.Spec.Template.Annotations
	case *appsv1.StatefulSet:
		kind, template = "StatefulSet", t.Spec.Template.Annotations
	case *appsv1.DaemonSet:
		kind, template = "DaemonSet", t.Spec.Template.Annotations
	case *unstructured.Unstructured:
		kind = t.GetKind()
	}
	if len(ann) == 0 && len(template) == 0 {
		return
	}
	if res := c.TranslateObject(kind, ann, template).Annotations; !sameMap(res, ann) {
		o.SetAnnotations(res)
	}
}

// sameMap reports whether a and b are the same map (not merely equal).
func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// validityMark holds, in the cache only, the validity of the certificates
// of a Secret that section 5 monitors (expiry.Encode), read before the
// data is dropped: expiry costs a few bytes per TLS Secret, not its data.
// Like trimmedMark it is never written to the API server: patches are
// computed between two cached copies that both carry it.
const validityMark = "internal.certinel.io/validity"

// summariseValidity records the validity of a monitored Secret's
// certificates: every kubernetes.io/tls Secret and every Secret with a
// certinel annotation, unless it opted out with certinel.io/monitor.
func summariseValidity(s *corev1.Secret) {
	if s.Type != corev1.SecretTypeTLS && !annotations.HasAny(s.Annotations) {
		return
	}
	if spec, _ := annotations.ParseExpirySpec(s.Annotations, 0); !spec.Monitored {
		return
	}
	keys := []string{annotations.TLSCertKey, annotations.CACertKey}
	if spec, ok, err := annotations.ParseInjectSpec(s.Namespace, s.Annotations); ok && err == nil {
		keys = append(keys, spec.TargetKey) // the bundle certinel injects
	}
	setAnnotation(s, validityMark, expiry.Encode(expiry.Read(s.Data, keys...)))
}

// reloadDigestsMark holds, in the cache only, the reload digests
// (digestParser) of a Secret whose outputs the cache holds as a record
// (ownership.Feature.Hold), read before the values went: "*" for the whole
// Secret and each held key, "key=digest,...". A workload reading the
// Secret or one of its stores then needs no read from the API server.
const reloadDigestsMark = "internal.certinel.io/reload-digests"

// holdOutputs makes the cache keep, of the keystores, truststores and
// certificate descriptions certinel wrote into s, their size and digests
// instead of their values: at a cold start with a thousand keystores, half
// the data the cache would hold. Nothing reads these values from the
// cache: the keystore controller compares digests and fingerprints, reload
// reads the digests recorded here, and any other reader of a held key reads
// it from the API server (holdsKeys).
func holdOutputs(s *corev1.Secret) {
	held := ownership.Keystores.Hold(s)
	if len(held) == 0 {
		return
	}
	whole := maps.Clone(s.Data)
	maps.Copy(whole, held) // the Secret as it was
	digests := []string{"*=" + reloadDigest(s.Name, "", whole)}
	for _, k := range slices.Sorted(maps.Keys(held)) {
		digests = append(digests, k+"="+reloadDigest(s.Name, k, held))
	}
	setAnnotation(s, reloadDigestsMark, strings.Join(digests, ","))
}

// heldDigest returns the reload digest recorded for key ("" for the whole
// Secret) of a Secret whose outputs the cache holds as a record, if it is
// one and key is held (or "").
func heldDigest(s *corev1.Secret, key string) (string, bool) {
	rec, ok := s.Annotations[reloadDigestsMark]
	if !ok || isTrimmed(s) {
		return "", false
	}
	if key != "" && !slices.Contains(ownership.Held(s), key) {
		return "", false // a key held as it is: read it
	}
	if key == "" {
		key = "*"
	}
	for _, item := range strings.Split(rec, ",") {
		if k, d, _ := strings.Cut(item, "="); k == key {
			return d, true
		}
	}
	return "", false
}

// holdsAllButOutputs reports a cached Secret that holds all its data but
// the outputs it holds as a record (holdOutputs), with their reload digests.
func holdsAllButOutputs(o metav1.Object) bool {
	_, ok := o.GetAnnotations()[reloadDigestsMark]
	return ok && !isTrimmed(o)
}

// trimWorkload drops the pod template of a workload that asks certinel for
// nothing: the cache keeps only what reload needs.
func trimWorkload(o metav1.Object, t *corev1.PodTemplateSpec) {
	if !annotations.HasAny(o.GetAnnotations()) {
		*t = corev1.PodTemplateSpec{}
	}
}

func markTrimmed(o metav1.Object) { setAnnotation(o, trimmedMark, "true") }

// isTrimmed reports a cached object whose data the cache dropped, whole or
// in part (keepOnly).
func isTrimmed(o metav1.Object) bool {
	_, ok := o.GetAnnotations()[trimmedMark]
	return ok
}

// keepOnly drops every data key of s but keys, when what is left is at
// most limit bytes, and marks s trimmed with the keys kept (those of keys
// it has and those it lacks alike: a key s lacks is missing, not dropped).
// It reports whether it kept them; if not, s is unchanged.
func keepOnly(s *corev1.Secret, keys []string, limit int) bool {
	size := 0
	for _, k := range keys {
		size += len(s.Data[k])
	}
	if size > limit {
		return false
	}
	for k := range s.Data {
		if !slices.Contains(keys, k) {
			delete(s.Data, k)
		}
	}
	setAnnotation(s, trimmedMark, keptPrefix+strings.Join(keys, ","))
	return true
}

// keptPrefix starts trimmedMark's value on a Secret whose data the cache
// kept in part: the keys it kept follow.
const keptPrefix = "kept:"

// holdsKeys reports whether the cached o holds every one of keys as the
// API server does: o is not trimmed, or the cache kept these keys.
func holdsKeys(o metav1.Object, keys []string) bool {
	if s, ok := o.(*corev1.Secret); ok {
		if held := ownership.Held(s); len(held) > 0 && (keys == nil || slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(held, k) })) {
			return false
		}
	}
	v, trimmed := o.GetAnnotations()[trimmedMark]
	if !trimmed {
		return true
	}
	kept, ok := strings.CutPrefix(v, keptPrefix)
	if !ok || keys == nil {
		return false
	}
	have := strings.Split(kept, ",")
	for _, k := range keys {
		if !slices.Contains(have, k) {
			return false
		}
	}
	return true
}

// trimMetadata drops managedFields and kubectl's last-applied copy.
func trimMetadata(o metav1.Object) {
	o.SetManagedFields(nil)
	if _, ok := o.GetAnnotations()[lastApplied]; ok {
		ann := o.GetAnnotations()
		delete(ann, lastApplied)
		o.SetAnnotations(ann)
	}
}
