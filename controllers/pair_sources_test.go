package controllers

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	routev1 "github.com/openshift/api/route/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/certinel/certinel/pkg/annotations"
)

func TestPairSources(t *testing.T) {
	route := func(secret string) map[string]string {
		return map[string]string{annotations.CertsFromSecret: secret}
	}
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
			{do: func(p *PairSources) { p.observe("Route", "a", "r", route("s")) }, has: []string{"a/s"}, none: []string{"b/s", "a/t"}},
		}},
		{"the destination CA is not a pair", []step{
			{do: func(p *PairSources) {
				p.observe("Route", "a", "r", map[string]string{annotations.DestinationCAFromSecret: "ca"})
			}, none: []string{"a/ca"}},
		}},
		{"a changed reference moves", []step{
			{do: func(p *PairSources) { p.observe("Route", "a", "r", route("s")) }, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.observe("Route", "a", "r", route("t")) }, has: []string{"a/t"}, none: []string{"a/s"}},
			{do: func(p *PairSources) { p.observe("Route", "a", "r", nil) }, none: []string{"a/s", "a/t"}},
		}},
		{"two readers of one Secret", []step{
			{do: func(p *PairSources) {
				p.observe("Route", "a", "r1", route("s"))
				p.observe("Route", "a", "r2", route("s"))
				p.observe("Ingress", "a", "r1", map[string]string{annotations.CertsFromSecret: "s"})
			}, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Route", "a", "r1") }, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Route", "a", "r2") }, has: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Ingress", "a", "r1") }, none: []string{"a/s"}},
			{do: func(p *PairSources) { p.forget("Ingress", "a", "never-seen") }, none: []string{"a/s"}},
		}},
		{"an Ingress's Secret in another namespace is not kept", []step{
			{do: func(p *PairSources) {
				p.observe("Ingress", "a", "i", map[string]string{annotations.CertsFromSecret: "b/s"})
			}, none: []string{"b/s", "a/s"}},
		}},
		{"a malformed reference reads nothing", []step{
			{do: func(p *PairSources) { p.observe("Route", "a", "r", route("")) }, none: []string{"a/"}},
			{do: func(p *PairSources) {
				p.observe("Ingress", "a", "i", map[string]string{annotations.CertsFromSecret: "a/b/c"})
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
		p.observe("Route", "a", "r", route("s"))
		p.forget("Route", "a", "r")
		if p.Has("a", "s") {
			t.Fatal("a nil set has a Secret")
		}
	})
}

// The cache keeps the TLS keys of a Secret a Route or Ingress reads, and
// nothing else of it; a reader of any other key reads the API server.
func TestCacheKeepsTLSKeysOfPairSources(t *testing.T) {
	tls := newTLS(t, "app")
	pairs := NewPairSources()
	transform := CacheTransform(annotations.Compat{CertUtils: true}, pairs)
	// The Route and Ingress pass through the transform, as the cache sees them.
	for _, obj := range []any{
		&routev1.Route{ObjectMeta: objectMeta("r", map[string]string{annotations.CertsFromSecret: "app"})},
		&routev1.Route{ObjectMeta: objectMeta("cu", map[string]string{annotations.CertUtilsCertsFromSecret: "compat"})},
		&networkingv1.Ingress{ObjectMeta: objectMeta("i", map[string]string{annotations.CertsFromSecret: "no-ca"})},
		&routev1.Route{ObjectMeta: objectMeta("big", map[string]string{annotations.CertsFromSecret: "huge"})},
	} {
		if _, err := transform(obj); err != nil {
			t.Fatal(err)
		}
	}
	withExtra := func(name string) *corev1.Secret {
		s := tlsSecret(name, tls, nil)
		s.Data["extra"] = []byte("not read by a Route")
		return s
	}
	noCA := tlsSecret("no-ca", tls, nil)
	delete(noCA.Data, annotations.CACertKey)
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
	pairs.observe("Route", testNS, "r", map[string]string{annotations.CertsFromSecret: "app"})
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
	r.pairs.forget("Route", testNS, "r")
	out, _ := TrimForCache(src.DeepCopy())
	again, _ := CacheTransform(annotations.Compat{}, pairs)(src.DeepCopy())
	if len(again.(*corev1.Secret).Data) != 0 || len(out.(*corev1.Secret).Data) != 0 {
		t.Fatal("the Secret of a forgotten Route keeps data in the cache")
	}
}
