package controllers

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/bundle"
	"github.com/certinel/certinel/pkg/pki"
	"github.com/certinel/certinel/pkg/route"
)

// NewSourceReader is the one reader of referenced objects that every
// feature shares: cached reads through cached, live reads of objects whose
// data the cache drops through live.
func NewSourceReader(cached, live client.Reader, namespaces []string) *SourceReader {
	return &SourceReader{cached: cached, live: live, namespaces: namespaces}
}

// readerEvents is the readerEvents of obj's kind for the watches of
// readers; nil (a handler per watch) when r is nil.
func (r *SourceReader) readerEvents(obj client.Object) *readerEvents {
	if r == nil {
		return nil
	}
	return r.readers.of(obj)
}

// WithPairs gives r the Secrets whose TLS keys the cache keeps (the Route
// and Ingress controllers make pairs follow their informers through r),
// and returns r.
func (r *SourceReader) WithPairs(pairs *PairSources) *SourceReader {
	r.pairs = pairs
	return r
}

// SourceReader reads what features use from the Secrets and ConfigMaps
// they reference: the certificates under one data key, or a password. It is
// the one place where certinel reads another object's data, so the rules
// of the annotation contract hold for every feature:
//   - a source in another namespace is read only with its consent
//     (share-certificates-with or allow-export-to), and a refusal says the
//     same whether the source exists or not;
//   - only the parsed result is kept (certificates, password bytes, or the
//     bad-input error), never the object, per resourceVersion, so unchanged
//     bytes are never fetched or parsed twice;
//   - a result is kept only while a referrer still reads it: each reconcile
//     declares what it read, and what nobody reads any more is dropped.
type SourceReader struct {
	cached client.Reader // the informer cache: data may be trimmed
	live   client.Reader // the API server, for objects whose data the cache drops
	// namespaces are the watched namespaces; empty means all.
	namespaces []string
	// pairs are the Secrets whose TLS keys the cache keeps for Routes and
	// Ingresses (nil: none), kept up by followPairs.
	pairs *PairSources

	// readers is the one informer handler per kind of source through
	// which changes reach the watches of readers (watchReaders).
	readers readerEventsByKind

	mu      sync.Mutex
	entries map[sourceKey]*sourceEntry
	held    map[string]map[sourceKey]struct{} // referrer → the sources it read last
	holders map[sourceKey]int                 // source → number of referrers holding it
}

type sourceKey struct {
	kind annotations.SourceKind
	types.NamespacedName
}

// sourceEntry is what was parsed from one version of one object, per data key.
type sourceEntry struct {
	resourceVersion string
	values          map[string]sourceValue
}

// sourceValue is the parsed content of one data key (or of the key pair).
type sourceValue struct {
	missing  bool                // the object has no such data key
	certs    []*x509.Certificate // certificates, when read as a bundle
	digest   string              // a reload digest of the data
	ignored  bool                // the object opted out of reloads
	password string              // when read as a password
	pair     *tlsPair            // when read as a key pair
	err      error               // *badinput.Error from parsing
}

// tlsPair is what a Route or an Ingress mirror takes from a TLS Secret, in
// the form they write it: no parsed certificate is kept.
type tlsPair struct {
	route *route.Pair
	// mirror is tls.crt and tls.key as written and ca.crt's certificates,
	// the data of an Ingress's mirror Secret (read for an Ingress only).
	mirror map[string][]byte
}

// parser parses what it needs of an object's data (a Secret or ConfigMap
// read whole).
type parser struct {
	id    string // what it parses, unique per object: "bundle:ca.crt"
	parse func(obj client.Object) sourceValue
	// keys are the data keys parse reads; nil is all of them. A cached
	// object that the cache trimmed is read from the API server unless
	// the cache kept these keys (holdsKeys).
	keys []string
	// readsHeld is set when parse reads what the cache recorded of the
	// outputs it holds as a record (heldDigest), not their values: such a
	// Secret is then not read from the API server.
	readsHeld bool
}

// one parses the one data key with parse; a missing key is missing.
func one(kind, key string, parse func([]byte) sourceValue) parser {
	return parser{id: kind + ":" + key, keys: []string{key}, parse: func(obj client.Object) sourceValue {
		v, ok := dataOf(obj, key)
		if !ok {
			return sourceValue{missing: true}
		}
		return parse(v)
	}}
}

// pairParser reads tls.crt, tls.key and ca.crt of a TLS Secret for a
// Route, or with mirror for an Ingress's mirror too (two results, so that
// a Route's Secret keeps no copy of its data as written).
func pairParser(mirror bool) parser {
	id := "pair:route"
	if mirror {
		id = "pair:mirror"
	}
	return parser{id: id, keys: pairKeys, parse: func(obj client.Object) sourceValue {
		data := func(key string) ([]byte, bool) { return dataOf(obj, key) }
		certPEM, okCert := data(annotations.TLSCertKey)
		keyPEM, okKey := data(annotations.TLSKeyKey)
		if !okCert || !okKey {
			return sourceValue{missing: true}
		}
		kp, err := pki.ParseKeyPair(certPEM, keyPEM)
		if err != nil {
			return sourceValue{err: badinput.Prefix(err, "tls.crt/tls.key: ")}
		}
		var cas []*x509.Certificate
		if ca, ok := data(annotations.CACertKey); ok && len(ca) > 0 {
			if cas, err = pki.ParseCertificates(ca); err != nil {
				return sourceValue{err: badinput.Prefix(err, "ca.crt: ")}
			}
		}
		p := &tlsPair{route: route.NewPair(kp, keyPEM, cas)}
		if mirror {
			p.mirror = map[string][]byte{annotations.TLSCertKey: bytes.Clone(certPEM), annotations.TLSKeyKey: bytes.Clone(keyPEM)}
			if len(cas) > 0 {
				p.mirror[annotations.CACertKey] = bundle.Encode(cas)
			}
		}
		return sourceValue{pair: p}
	}}
}

// sourceReads are one referrer's reads during one reconcile. Call done when
// the reconcile ends: what the referrer read before and not now is released.
type sourceReads struct {
	r        *SourceReader
	referrer string
	readerNS string
	// feature names what reads, in the one message that may be given about
	// a source in another namespace ("a truststore source").
	feature string
	seen    map[sourceKey]string // source → resourceVersion read
	// fetched counts the bytes of data read from the API server.
	fetched int
}

// begin starts the reads of referrer (unique per feature and object), in
// namespace readerNS; "" is a cluster-scoped referrer, which only cluster
// administrators can annotate and which needs no consent.
func (r *SourceReader) begin(referrer, readerNS, feature string) *sourceReads {
	return &sourceReads{r: r, referrer: referrer, readerNS: readerNS, feature: feature, seen: map[sourceKey]string{}}
}

// done records what the referrer read in this reconcile and drops the
// results that no referrer reads any more.
func (rd *sourceReads) done() {
	if rd.fetched > handBackAfter {
		handBack()
	}
	r := rd.r
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.held[rd.referrer]
	for k := range rd.seen {
		if _, ok := prev[k]; !ok {
			if r.holders == nil {
				r.holders = map[sourceKey]int{}
			}
			r.holders[k]++
		}
	}
	for k := range prev {
		if _, ok := rd.seen[k]; !ok {
			r.release(k)
		}
	}
	if len(rd.seen) == 0 {
		delete(r.held, rd.referrer)
		return
	}
	now := make(map[sourceKey]struct{}, len(rd.seen))
	for k := range rd.seen {
		now[k] = struct{}{}
	}
	if r.held == nil {
		r.held = map[string]map[sourceKey]struct{}{}
	}
	r.held[rd.referrer] = now
}

// release drops one holder of k, and k's result with the last one. r.mu is held.
func (r *SourceReader) release(k sourceKey) {
	if r.holders[k]--; r.holders[k] <= 0 {
		delete(r.holders, k)
		delete(r.entries, k)
		sourcesHeld.Set(float64(len(r.entries)))
	}
}

// versions lists "kind:ns/name@resourceVersion" of every object read, sorted:
// with the referrer's own version, it tells whether any input changed.
func (rd *sourceReads) versions() []string {
	out := make([]string, 0, len(rd.seen))
	for k, rv := range rd.seen {
		out = append(out, referenceKey(string(k.kind), k.Namespace, k.Name)+"@"+rv)
	}
	slices.Sort(out)
	return out
}

// sourceMissing is a source that does not exist in the reader's
// namespace, or is in a namespace certinel does not watch.
type sourceMissing struct{ msg string }

func (e *sourceMissing) Error() string { return e.msg }

// asMissing turns a sourceMissing into bad input with the given reason.
func asMissing(err error, reason string) error {
	var m *sourceMissing
	if errors.As(err, &m) {
		return badinput.Errorf(reason, "%s", m.msg)
	}
	return err
}

// certificates returns the CERTIFICATE blocks under ref's data key. what
// names the reference in messages ("truststore source secret:ns/name/key");
// missing is the reason when the source does not exist.
func (rd *sourceReads) certificates(ctx context.Context, ref annotations.SourceRef, what, missing string) ([]*x509.Certificate, error) {
	v, err := rd.read(ctx, ref, annotations.CertificatesOnly, what, one("bundle", ref.Key, parseBundle))
	switch {
	case err != nil:
		return nil, asMissing(err, missing)
	case v.missing:
		return nil, badinput.Errorf(badinput.MissingSourceKey, "%s has no data key %q", what, ref.Key)
	case v.err != nil:
		return nil, badinput.Prefix(v.err, what+": ")
	}
	return v.certs, nil
}

// keyPair returns the key pair and CAs of the TLS Secret ref names (its
// key is ignored). A private key crosses namespaces only with
// allow-export-to on the Secret.
func (rd *sourceReads) keyPair(ctx context.Context, ref annotations.SourceRef, what, missing string, mirror bool) (*tlsPair, error) {
	v, err := rd.read(ctx, ref, annotations.Everything, what, pairParser(mirror))
	switch {
	case err != nil:
		return nil, asMissing(err, missing)
	case v.missing:
		return nil, badinput.Errorf(badinput.NoCertificate, "%s has no %s and %s: it is not a TLS Secret", what, annotations.TLSCertKey, annotations.TLSKeyKey)
	case v.err != nil:
		return nil, badinput.Prefix(v.err, what+": ")
	}
	return v.pair, nil
}

// password returns the password under ref's data key; ref is in the
// reader's namespace.
func (rd *sourceReads) password(ctx context.Context, ref annotations.SourceRef, what string) (string, error) {
	v, err := rd.read(ctx, ref, annotations.Everything, what, one("password", ref.Key, parsePassword))
	switch {
	case err != nil:
		return "", asMissing(err, badinput.MissingPasswordSecret)
	case v.missing:
		return "", badinput.Errorf(badinput.MissingPasswordSecret, "%s has no data key %q", what, ref.Key)
	case v.err != nil:
		return "", badinput.Prefix(v.err, what+": ")
	}
	return v.password, nil
}

func parseBundle(data []byte) sourceValue {
	certs, err := pki.ParseCertificates(data)
	return sourceValue{certs: certs, err: err}
}

// parsePassword takes a password Secret's value as it is (a trailing
// newline included, as the workloads that read the same Secret see it), and
// refuses one that is empty or only white space.
func parsePassword(data []byte) sourceValue {
	if strings.TrimSpace(string(data)) == "" {
		return sourceValue{err: badinput.Errorf(badinput.InvalidPassword, "the password is empty or only white space")}
	}
	return sourceValue{password: string(data)}
}

// read returns the parsed value of ref's data key. A source that does not
// exist is a NotFound error in the reader's namespace, and SourceNotShared in
// another, exactly as a source that exists without consent.
func (rd *sourceReads) read(ctx context.Context, ref annotations.SourceRef, access annotations.Access, what string, p parser) (sourceValue, error) {
	r := rd.r
	k := sourceKey{ref.Kind, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}}
	if len(r.namespaces) > 0 && !slices.Contains(r.namespaces, ref.Namespace) {
		return sourceValue{}, &sourceMissing{fmt.Sprintf("%s is in namespace %s, which certinel does not watch (--namespaces)", what, ref.Namespace)}
	}
	// The cached object itself, not a copy: nothing here or in a parser
	// changes it, and at a cold start with a thousand Routes the copies
	// were 6% of what certinel allocated.
	obj := newSourceObject(ref.Kind)
	err := r.cached.Get(ctx, k.NamespacedName, obj, client.UnsafeDisableDeepCopy)
	if err != nil && !apierrors.IsNotFound(err) {
		return sourceValue{}, err
	}
	if rd.readerNS != "" && ref.Namespace != rd.readerNS && (err != nil || !annotations.Shares(obj.GetAnnotations(), ref.Namespace, rd.readerNS, access)) {
		return sourceValue{}, badinput.Errorf(badinput.SourceNotShared, "%s",
			annotations.NotSharedMessage(rd.feature, ref.Namespace, rd.readerNS, access))
	}
	if err != nil {
		return sourceValue{}, &sourceMissing{what + " does not exist"}
	}
	// Results are kept under the cached resourceVersion: the one events
	// announce. A live read may return a newer version; it is read again
	// once the cache has that version too.
	rv := obj.GetResourceVersion()
	rd.seen[k] = rv
	if v, ok := r.lookup(k, rv, p.id); ok {
		return v, nil
	}
	if !holdsKeys(obj, p.keys) && !(p.readsHeld && holdsAllButOutputs(obj)) {
		// "Not older than the cached version": the API server answers from
		// its watch cache instead of a quorum read of etcd, which at a cold
		// start of a thousand readers is most of the cost of a read.
		notOlder := &client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: rv}}
		obj = newSourceObject(ref.Kind) // decoding into the cached one would change it
		if err := r.live.Get(ctx, k.NamespacedName, obj, notOlder); apierrors.IsNotFound(err) {
			return sourceValue{}, &sourceMissing{what + " does not exist"}
		} else if err != nil {
			return sourceValue{}, err
		}
		rd.fetched += dataSize(obj)
		// The live object may be newer than the cached one consent was read
		// from: its data is used only if it consents too.
		if rd.readerNS != "" && ref.Namespace != rd.readerNS && !annotations.Shares(obj.GetAnnotations(), ref.Namespace, rd.readerNS, access) {
			return sourceValue{}, badinput.Errorf(badinput.SourceNotShared, "%s",
				annotations.NotSharedMessage(rd.feature, ref.Namespace, rd.readerNS, access))
		}
	}
	v := p.parse(obj)
	r.store(k, rv, p.id, v)
	return v, nil
}

func (r *SourceReader) lookup(k sourceKey, rv, key string) (sourceValue, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[k]
	if !ok || e.resourceVersion != rv {
		return sourceValue{}, false
	}
	v, ok := e.values[key]
	return v, ok
}

func (r *SourceReader) store(k sourceKey, rv, key string, v sourceValue) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[k]
	if !ok || e.resourceVersion != rv {
		e = &sourceEntry{resourceVersion: rv, values: map[string]sourceValue{}}
		if r.entries == nil {
			r.entries = map[sourceKey]*sourceEntry{}
		}
		r.entries[k] = e
		sourcesHeld.Set(float64(len(r.entries)))
	}
	e.values[key] = v
}

// size is the number of objects whose parsed data is kept (for tests).
func (r *SourceReader) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

// handBackAfter is how many bytes one reconcile may read from the API
// server (whole objects, of which it keeps a few certificates) before
// certinel hands the memory they took back to the system at its end.
const handBackAfter = 4 << 20

var lastHandBack atomic.Int64

// handBack returns freed memory to the system, at most once a second: a
// tenant whose Secret reads many large objects makes certinel's heap grow
// for a moment, and without this its RSS would stay at that peak.
func handBack() {
	now := time.Now().UnixNano()
	last := lastHandBack.Load()
	if now-last < int64(time.Second) || !lastHandBack.CompareAndSwap(last, now) {
		return
	}
	go debug.FreeOSMemory()
}

// dataSize is the size of the data of a Secret or ConfigMap.
func dataSize(obj client.Object) int {
	n := 0
	switch o := obj.(type) {
	case *corev1.Secret:
		for _, v := range o.Data {
			n += len(v)
		}
	case *corev1.ConfigMap:
		for _, v := range o.Data {
			n += len(v)
		}
		for _, v := range o.BinaryData {
			n += len(v)
		}
	}
	return n
}

func newSourceObject(kind annotations.SourceKind) client.Object {
	if kind == annotations.ConfigMapSource {
		return &corev1.ConfigMap{}
	}
	return &corev1.Secret{}
}

// dataOf returns the data under key of a Secret or ConfigMap (data, then
// binaryData for a ConfigMap).
func dataOf(obj client.Object, key string) ([]byte, bool) {
	switch o := obj.(type) {
	case *corev1.Secret:
		v, ok := o.Data[key]
		return v, ok
	case *corev1.ConfigMap:
		if s, ok := o.Data[key]; ok {
			return []byte(s), true
		}
		v, ok := o.BinaryData[key]
		return v, ok
	}
	return nil, false
}
