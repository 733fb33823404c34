package controllers

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/testutil"
)

// reader is the metadata of a Route or Ingress a/name with UID uid.
func reader(name, uid string) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Namespace: "a", Name: name, UID: types.UID(uid)}
}

func TestPairSources(t *testing.T) {
	route := func(secret string) map[string]string {
		return map[string]string{annotations.CertsFromSecret: secret}
	}
	r, i := reader("r", "u1"), reader("i", "u2")
	type step struct {
		do   func(p *PairSources)
		has  []string // ns/name of Secrets read as pairs afterwards
		none []string // ns/name of Secrets not read
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a Route's Secret", []step{
			{do: func(p *PairSources) { p.observe("Route", r, route("s")) }, has: []string{"a/s"}, none: []string{"b/s", "a/t"}},
		}},
		{"the destination CA is not a pair", []step{
			{do: func(p *PairSources) {
				p.observe("Route", r, map[string]string{annotations.DestinationCAFromSecret: "ca"})
			}, none: []string{"a/ca"}},
		}},
		{"a changed reference moves", []step{
			{do: func(p *PairSources) { p.observe("Route", r, route("s")) }, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.observe("Route", r, route("t")) }, has: []string{"a/t"}, none: []string{"a/s"}},
			{do: func(p *PairSources) { p.observe("Route", r, nil) }, none: []string{"a/s", "a/t"}},
		}},
		{"two readers of one Secret", []step{
			{do: func(p *PairSources) {
				p.observe("Route", r, route("s"))
				p.observe("Route", reader("r2", "u3"), route("s"))
				p.observe("Ingress", reader("r", "u4"), route("s"))
			}, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Route", r) }, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Route", reader("r2", "u3")) }, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Ingress", reader("r", "u4")) }, none: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Ingress", i) }, none: []string{"a/s"}},
		}},
		{"a re-created reader outlives its predecessor's deletion", []step{
			{do: func(p *PairSources) { p.observe("Route", r, route("s")) }, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.observe("Route", reader("r", "u9"), route("s")) }, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Route", r) }, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Route", reader("r", "u9")) }, none: []string{"a/s"}},
		}},
		{"what only the seed saw goes once the informer has synced", []step{
			{do: func(p *PairSources) {
				p.record("Route", r, route("kept"), true)
				p.record("Route", reader("gone", "u5"), route("gone"), true)
				p.record("Ingress", i, route("ingress"), true)
				p.observe("Route", r, route("kept")) // listed by the informer
			}, has: []string{"a/kept", "a/gone", "a/ingress"}},
			{do: func(p *PairSources) { p.settle("Route") }, has: []string{"a/kept", "a/ingress"}, none: []string{"a/gone"}},
			{do: func(p *PairSources) { p.settle("Ingress") }, has: []string{"a/kept"}, none: []string{"a/ingress"}},
		}},
		{"an Ingress's Secret in another namespace is not kept", []step{
			{do: func(p *PairSources) {
				p.observe("Ingress", i, map[string]string{annotations.CertsFromSecret: "b/s"})
			}, none: []string{"b/s", "a/s"}},
		}},
		{"a malformed reference reads nothing", []step{
			{do: func(p *PairSources) { p.observe("Route", r, route("")) }, none: []string{"a/"}},
			{do: func(p *PairSources) {
				p.observe("Ingress", i, map[string]string{annotations.CertsFromSecret: "a/b/c"})
			}, none: []string{"a/b", "a/c"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPairSources()
			for i, s := range tt.steps {
				s.do(p)
				for _, k := range s.has {
					if ns, name, _ := strings.Cut(k, "/"); !p.Has(ns, name) {
						t.Errorf("step %d: %s is not a pair source", i, k)
					}
				}
				for _, k := range s.none {
					if ns, name, _ := strings.Cut(k, "/"); p.Has(ns, name) {
						t.Errorf("step %d: %s is a pair source", i, k)
					}
				}
			}
		})
	}
	t.Run("nil", func(t *testing.T) {
		var p *PairSources
		p.observe("Route", r, route("s"))
		p.forget("Route", r)
		if p.Has("a", "s") || p.Follow(context.Background(), nil, "Route") != nil {
			t.Fatal("a nil set has a Secret")
		}
	})
}

// pairInformer hands its handler to the test.
type pairInformer struct {
	handler toolscache.ResourceEventHandler
	synced  atomic.Bool
}

func (f *pairInformer) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	f.handler = h
	return nil, nil
}

func (f *pairInformer) HasSynced() bool { return f.synced.Load() }

// Follow records what the informer adds and updates, forgets deleted
// readers, tombstones included, and once the informer has synced, the
// readers only the seed saw.
func TestPairSourcesFollow(t *testing.T) {
	p := NewPairSources()
	route := &routev1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "r", UID: "u1", Annotations: map[string]string{annotations.CertsFromSecret: "s"}}}
	other := route.DeepCopy()
	other.Name, other.UID, other.Annotations[annotations.CertsFromSecret] = "r2", "u2", "t"
	seededOnly := reader("gone", "u3")
	p.record("Route", seededOnly, map[string]string{annotations.CertsFromSecret: "gone"}, true)
	inf := &pairInformer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := p.Follow(ctx, inf, "Route"); err != nil {
		t.Fatal(err)
	}
	inf.handler.OnAdd(route, true)
	inf.handler.OnAdd(other.DeepCopy(), true)
	if !p.Has("a", "s") || !p.Has("a", "t") {
		t.Fatal("a Route the informer added is not recorded")
	}
	moved := other.DeepCopy()
	moved.Annotations[annotations.CertsFromSecret] = "u"
	inf.handler.OnUpdate(other, moved)
	if p.Has("a", "t") || !p.Has("a", "u") {
		t.Fatal("an updated Route's new reference is not recorded")
	}
	other = moved
	inf.synced.Store(true)
	testutil.Eventually(t, 5*time.Second, func() string {
		if p.Has("a", "gone") {
			return "the Secret of a Route only the seed saw is still kept after the informer synced"
		}
		return ""
	})
	inf.handler.OnDelete(route)
	inf.handler.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "a/r2", Obj: other})
	if p.Has("a", "s") || p.Has("a", "u") {
		t.Fatal("a deleted Route's Secret is still kept")
	}
}

// Seed reads what Routes and Ingresses read from their metadata, with the
// compatibility modes' translation, and skips a kind that is not served.
func TestPairSourcesSeed(t *testing.T) {
	meta := func(apiVersion, kind, name string, ann map[string]string) *metav1.PartialObjectMetadata {
		return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
			ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: name, UID: types.UID(name), Annotations: ann}}
	}
	objs := []runtime.Object{
		meta("route.openshift.io/v1", "Route", "r", map[string]string{annotations.CertsFromSecret: "route-tls"}),
		meta("route.openshift.io/v1", "Route", "cu", map[string]string{annotations.CertUtilsCertsFromSecret: "compat-tls"}),
		meta("route.openshift.io/v1", "Route", "plain", nil),
		meta("networking.k8s.io/v1", "Ingress", "i", map[string]string{annotations.CertsFromSecret: "ingress-tls"}),
	}
	scheme := func() *runtime.Scheme {
		s := metadatafake.NewTestScheme()
		if err := metav1.AddMetaToScheme(s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	compat := annotations.Compat{CertUtils: true}
	translate := func(kind string, ann map[string]string) map[string]string {
		return compat.TranslateObject(kind, ann, nil).Annotations
	}
	for _, tc := range []struct {
		name       string
		namespaces []string
		routes     bool
		has, none  []string
	}{
		{"all namespaces", nil, true, []string{"route-tls", "compat-tls", "ingress-tls"}, nil},
		{"one namespace", []string{"a"}, true, []string{"route-tls", "compat-tls", "ingress-tls"}, nil},
		{"another namespace", []string{"b"}, true, nil, []string{"route-tls", "ingress-tls"}},
		{"Routes off", nil, false, []string{"ingress-tls"}, []string{"route-tls", "compat-tls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPairSources()
			p.Seed(context.Background(), metadatafake.NewSimpleMetadataClient(scheme(), objs...), tc.namespaces, tc.routes, translate)
			for _, s := range tc.has {
				if !p.Has("a", s) {
					t.Errorf("%s is not a pair source", s)
				}
			}
			for _, s := range tc.none {
				if p.Has("a", s) {
					t.Errorf("%s is a pair source", s)
				}
			}
		})
	}
	t.Run("a kind that is not served", func(t *testing.T) {
		c := metadatafake.NewSimpleMetadataClient(scheme(), objs[3])
		c.PrependReactor("list", "routes", func(clienttesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "route.openshift.io", Resource: "routes"}, "")
		})
		p := NewPairSources()
		p.Seed(context.Background(), c, nil, true, translate)
		if !p.Has("a", "ingress-tls") {
			t.Fatal("the Ingresses were not seeded after the Routes' list failed")
		}
	})
}

// The cache keeps the TLS keys of a Secret a Route or Ingress reads, and
// nothing else of it; a reader of any other key reads the API server.
func TestCacheKeepsTLSKeysOfPairSources(t *testing.T) {
	tls := newTLS(t, "app")
	pairs := NewPairSources()
	transform := CacheTransform(annotations.Compat{CertUtils: true}, pairs)
	// The Routes and the Ingress as their informer's handler sees them
	// (Follow): transformed, so with cert-utils' annotation translated.
	for _, obj := range []metav1.Object{
		&routev1.Route{ObjectMeta: objectMeta("r", map[string]string{annotations.CertsFromSecret: "app"})},
		&routev1.Route{ObjectMeta: objectMeta("m", map[string]string{annotations.CertsFromSecret: "mirror"})},
		&routev1.Route{ObjectMeta: objectMeta("cu", map[string]string{annotations.CertUtilsCertsFromSecret: "compat"})},
		&networkingv1.Ingress{ObjectMeta: objectMeta("i", map[string]string{annotations.CertsFromSecret: "no-ca"})},
		&routev1.Route{ObjectMeta: objectMeta("big", map[string]string{annotations.CertsFromSecret: "huge"})},
	} {
		if _, err := transform(obj); err != nil {
			t.Fatal(err)
		}
		kind := "Route"
		if _, ok := obj.(*networkingv1.Ingress); ok {
			kind = "Ingress"
		}
		pairs.observe(kind, obj, obj.GetAnnotations())
	}
	withExtra := func(name string) *corev1.Secret {
		s := tlsSecret(name, tls, nil)
		s.Data["extra"] = []byte("not read by a Route")
		return s
	}
	noCA := tlsSecret("no-ca", tls, nil)
	delete(noCA.Data, annotations.CACertKey)
	mirror := tlsSecret("mirror", tls, map[string]string{annotations.MirrorOf: "pki/wildcard-tls"})
	huge := tlsSecret("huge", tls, nil)
	huge.Data[annotations.CACertKey] = bytes.Repeat(tls.ca, maxKeptPair/len(tls.ca)+1)
	tests := []struct {
		in       *corev1.Secret
		wantKeys []string // nil: the data is dropped
	}{
		{withExtra("app"), []string{"ca.crt", "tls.crt", "tls.key"}},
		{withExtra("compat"), []string{"ca.crt", "tls.crt", "tls.key"}},
		{noCA, []string{"tls.crt", "tls.key"}},
		{withExtra("unread"), nil},
		{huge, nil},
		{mirror, nil}, // another namespace's key: a Route naming it does not make the cache keep it
	}
	for _, tt := range tests {
		t.Run(tt.in.Name, func(t *testing.T) {
			out, err := transform(tt.in.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			s := out.(*corev1.Secret)
			if got := dataKeys(s); !slices.Equal(got, tt.wantKeys) {
				t.Fatalf("cached keys %v, want %v", got, tt.wantKeys)
			}
			for _, k := range tt.wantKeys {
				if !bytes.Equal(s.Data[k], tt.in.Data[k]) {
					t.Errorf("cached %s differs from the Secret's", k)
				}
			}
			if !isTrimmed(s) {
				t.Error("not marked trimmed: a reader of another key would take the cached copy for the whole Secret")
			}
			if got := holdsKeys(s, pairKeys); got != (tt.wantKeys != nil) {
				t.Errorf("holdsKeys(%v) = %v", pairKeys, got)
			}
			for _, keys := range [][]string{{"extra"}, nil, {annotations.TLSCertKey, "extra"}} {
				if holdsKeys(s, keys) {
					t.Errorf("holdsKeys(%q) = true: the cache does not hold them", keys)
				}
			}
			again, _ := transform(s)
			if got := dataKeys(again.(*corev1.Secret)); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("a second transform changed the keys to %v", got)
			}
		})
	}
	t.Run("forged mark", func(t *testing.T) {
		s := withExtra("unread")
		s.Annotations = map[string]string{trimmedMark: keptPrefix + "extra"}
		out, _ := transform(s)
		if holdsKeys(out.(*corev1.Secret), []string{"extra"}) {
			t.Fatal("a user's copy of the mark made the cache claim a key it dropped")
		}
	})
	t.Run("a Secret with certinel annotations is whole", func(t *testing.T) {
		s := tlsSecret("app", tls, map[string]string{annotations.Keystores: "jks"})
		s.Data["extra"] = []byte("x")
		out, _ := transform(s)
		if got := dataKeys(out.(*corev1.Secret)); len(got) != 4 || isTrimmed(out.(*corev1.Secret)) {
			t.Fatalf("cached keys %v, want all four, untrimmed", got)
		}
	})
}

// A Route's key pair comes from the cache when the cache kept it; another
// key of the same Secret is read from the API server.
func TestKeptPairIsNotFetched(t *testing.T) {
	tls := newTLS(t, "app")
	src := tlsSecret("app", tls, nil)
	src.Data["bundle.pem"] = tls.ca
	pairs := NewPairSources()
	rt := &metav1.ObjectMeta{Namespace: testNS, Name: "r", UID: "u1"}
	pairs.observe("Route", rt, map[string]string{annotations.CertsFromSecret: "app"})
	cachedObj, err := CacheTransform(annotations.Compat{}, pairs)(src.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	cached := newFakeClient(interceptor.Funcs{}, cachedObj.(*corev1.Secret))
	live := &countingReader{Reader: newFakeClient(interceptor.Funcs{}, src), gets: map[string]int{}}
	r := NewSourceReader(cached, live, nil).WithPairs(pairs)

	rd := r.begin("route:r", testNS, "a Secret")
	pair, err := rd.keyPair(context.Background(), secretRef(testNS, "app", ""), "Secret app", "MissingSecret", false)
	if err != nil {
		t.Fatal(err)
	}
	if pair.route == nil || pair.route.Certificate == "" || pair.route.Key == "" || pair.route.CACertificate == "" {
		t.Fatalf("pair %+v lacks a part the Secret holds", pair.route)
	}
	if got := live.gets["app"]; got != 0 {
		t.Fatalf("the kept pair was fetched %d times from the API server, want 0", got)
	}
	certs, err := rd.certificates(context.Background(), secretRef(testNS, "app", "bundle.pem"), "Secret app", "MissingSecret")
	if err != nil || len(certs) != 1 {
		t.Fatalf("bundle.pem: %d certificates, %v; want 1", len(certs), err)
	}
	if got := live.gets["app"]; got != 1 {
		t.Fatalf("a key the cache dropped was fetched %d times, want 1", got)
	}
	rd.done()

	// A deleted Route is forgotten: the Secret's next version is trimmed whole.
	r.pairs.forget("Route", rt)
	again, _ := CacheTransform(annotations.Compat{}, pairs)(src.DeepCopy())
	if len(again.(*corev1.Secret).Data) != 0 {
		t.Fatal("the Secret of a forgotten Route keeps data in the cache")
	}
}
