package reload

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
)

func FuzzParseSpec(f *testing.F) {
	for _, s := range []struct {
		mask                      uint8
		secrets, configMaps, auto string
	}{
		{0, "", "", ""},
		{1, "tls", "", ""},
		{1, " b , a,, b ,a/key , c/ca.crt", "", ""},
		{2, "", "app-config / settings.yaml, shared/app.yaml", ""},
		{4, "", "", "auto"},
		{4, "", "", " Auto "},
		{4, "", "", "true"},
		{7, "tls,tls/ca.crt", "cm", "auto"},
		{1, "Bad_Name", "", ""},
		{1, "tls/", "", ""},
		{1, "/key", "", ""},
		{1, "ns/tls/ca.crt", "", ""},
		{2, "", "cm/a b", ""},
		{2, "", strings.Repeat("a", 254), ""},
		{1, "a.b.c/d.e", "", ""},
		{3, "x,y", "x,y", ""},
	} {
		f.Add(s.mask, s.secrets, s.configMaps, s.auto)
	}
	keys := []string{annotations.ReloadSecrets, annotations.ReloadConfigMaps, annotations.Reload}
	f.Fuzz(func(t *testing.T, mask uint8, secrets, configMaps, auto string) {
		ann := map[string]string{}
		for i, v := range []string{secrets, configMaps, auto} {
			if mask&(1<<i) != 0 {
				ann[keys[i]] = v
			}
		}
		spec, asks, err := ParseSpec(ann)
		if asks != (len(ann) > 0) {
			t.Fatalf("asks = %v for %v", asks, ann)
		}
		if err != nil {
			e, ok := badinput.As(err)
			if !ok || e.Reason != badinput.InvalidAnnotation {
				t.Fatalf("error %T %q: want an InvalidAnnotation *badinput.Error", err, err)
			}
			if !strings.Contains(e.Message, "certinel.io/reload") || !strings.Contains(e.Message, "want") {
				t.Fatalf("message %q names no key or says not what to write", e.Message)
			}
			if len(e.Message) > badinput.NoteLimit {
				t.Fatalf("message of %d bytes: the user's value is not cut", len(e.Message))
			}
			if !reflect.DeepEqual(spec, Spec{}) {
				t.Fatalf("error with a non-zero spec %+v", spec)
			}
			return
		}
		_, hasAuto := ann[annotations.Reload]
		if spec.Auto != hasAuto || (hasAuto && !strings.EqualFold(strings.TrimSpace(auto), "auto")) {
			t.Fatalf("auto %v from %q", spec.Auto, auto)
		}
		for _, l := range []struct {
			kind annotations.SourceKind
			refs []Ref
			v    string
		}{
			{annotations.SecretSource, spec.Secrets, secrets},
			{annotations.ConfigMapSource, spec.ConfigMaps, configMaps},
		} {
			for i, r := range l.refs {
				if r.Kind != l.kind || r.Optional {
					t.Fatalf("ref %+v in the %s list", r, l.kind)
				}
				if len(validation.IsDNS1123Subdomain(r.Name)) > 0 || (r.Key != "" && len(validation.IsConfigMapKey(r.Key)) > 0) {
					t.Fatalf("invalid ref accepted: %+v", r)
				}
				if i > 0 {
					p := l.refs[i-1]
					if p.Name > r.Name || (p.Name == r.Name && (p.Key >= r.Key || p.Key == "")) {
						t.Fatalf("refs not sorted, unique, with keys absorbed: %v", l.refs)
					}
				}
				if !strings.Contains(l.v, r.Name) || !strings.Contains(l.v, r.Key) {
					t.Fatalf("ref %+v not in %q", r, l.v)
				}
			}
			// The canonical form parses to the same.
			items := make([]string, len(l.refs))
			for i, r := range l.refs {
				items[i] = strings.TrimPrefix(r.String(), string(r.Kind)+":")
			}
			key := annotations.ReloadSecrets
			if l.kind == annotations.ConfigMapSource {
				key = annotations.ReloadConfigMaps
			}
			again, err := parseList(key, l.kind, strings.Join(items, ","))
			if err != nil || !reflect.DeepEqual(again, l.refs) {
				t.Fatalf("canonical %q parses as %v, %v; want %v", items, again, err, l.refs)
			}
		}
	})
}

func FuzzHash(f *testing.F) {
	f.Add(false, "tls", "tls.crt", []byte("cert"), "tls.key", []byte("key"), uint(0))
	f.Add(true, "cfg", "a", []byte{}, "b", []byte{0}, uint(7))
	f.Add(false, "x", "k", []byte("same"), "k", []byte("same"), uint(3))
	f.Add(true, "", "", []byte(nil), "", []byte(nil), uint(0))
	f.Fuzz(func(t *testing.T, configMap bool, name, k1 string, v1 []byte, k2 string, v2 []byte, pos uint) {
		kind := annotations.SecretSource
		if configMap {
			kind = annotations.ConfigMapSource
		}
		refs := []Ref{{Kind: kind, Name: name}}
		d := map[string][]byte{k1: slices.Clone(v1), k2: slices.Clone(v2)}
		data := func(r Ref) (map[string][]byte, bool) {
			if r.Kind != kind || r.Name != name || r.Key != "" {
				t.Fatalf("data asked for %+v", r)
			}
			return d, true
		}
		h := Hash(refs, data)
		if !isHash(h) || !utf8.ValidString(h) {
			t.Fatalf("Hash = %q is not 64 lower-case hex digits", h)
		}
		if again := Hash(slices.Clone(refs), func(Ref) (map[string][]byte, bool) { return maps.Clone(d), true }); again != h {
			t.Fatalf("Hash = %s then %s", h, again)
		}
		if absent := Hash(refs, func(Ref) (map[string][]byte, bool) { return nil, false }); absent == h {
			t.Fatal("an absent object hashes like a present one")
		}
		// Flip one bit of one byte of the data: the hash changes.
		ks := slices.Sorted(maps.Keys(d))
		total := 0
		for _, k := range ks {
			total += len(d[k])
		}
		if total == 0 {
			return
		}
		i := int(pos % uint(total))
		for _, k := range ks {
			if i < len(d[k]) {
				d[k][i] ^= 1 << (pos % 8)
				break
			}
			i -= len(d[k])
		}
		if changed := Hash(refs, data); changed == h {
			t.Fatalf("flipping a bit of %v leaves the hash %s", d, h)
		}
	})
}
