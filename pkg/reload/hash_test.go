package reload

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// objects is a namespace: the data of each object by Ref.String() of its
// whole-object ref; a missing entry is a missing object.
type objects map[string]map[string][]byte

func (o objects) data(r Ref) (map[string][]byte, bool) {
	r.Key, r.Optional = "", false
	d, ok := o[r.String()]
	return d, ok
}

func TestHashKnownAnswer(t *testing.T) {
	// Each field is an 8-byte big-endian length (or number) and its bytes.
	enc := []byte{}
	u := func(n byte) { enc = append(enc, 0, 0, 0, 0, 0, 0, 0, n) }
	s := func(v string) { u(byte(len(v))); enc = append(enc, v...) }
	s(hashDomain)
	u(3)
	s("configmap")
	s("c")
	s("")
	u(1) // present
	u(2) // two keys, sorted
	s("a")
	s("1")
	s("b")
	s("")
	s("secret")
	s("gone")
	s("")
	u(0) // absent
	s("secret")
	s("s")
	s("k")
	u(1)
	s("v")
	sum := sha256.Sum256(enc)
	want := hex.EncodeToString(sum[:])

	ns := objects{
		"configmap:c": {"b": {}, "a": []byte("1")},
		"secret:s":    {"k": []byte("v"), "other": []byte("ignored")},
	}
	got := Hash([]Ref{configMap("c", ""), secret("gone", ""), secret("s", "k")}, ns.data)
	if got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
	if !isHash(got) {
		t.Errorf("%q is not recognised as a hash", got)
	}
}

// TestHashCompares hashes pairs of inputs that must hash differently, or
// the same when same is set.
func TestHashCompares(t *testing.T) {
	type input struct {
		refs []Ref
		ns   objects
	}
	tls := objects{"secret:tls": {"tls.crt": []byte("cert"), "tls.key": []byte("key")}}
	shared := objects{"configmap:shared": {"app.yaml": []byte("a: 1"), "other.yaml": []byte("x")}}
	tests := map[string]struct {
		a, b input
		same bool
	}{
		"a value changes": {
			a: input{[]Ref{secret("tls", "")}, tls},
			b: input{[]Ref{secret("tls", "")}, objects{"secret:tls": {"tls.crt": []byte("cert2"), "tls.key": []byte("key")}}},
		},
		"a key is renamed": {
			a: input{[]Ref{secret("tls", "")}, tls},
			b: input{[]Ref{secret("tls", "")}, objects{"secret:tls": {"tls.crt": []byte("cert"), "tls.pem": []byte("key")}}},
		},
		"a key is added": {
			a: input{[]Ref{secret("tls", "")}, tls},
			b: input{[]Ref{secret("tls", "")}, objects{"secret:tls": {"tls.crt": []byte("cert"), "tls.key": []byte("key"), "ca.crt": nil}}},
		},
		"bytes move between keys": {
			a: input{[]Ref{secret("x", "")}, objects{"secret:x": {"a": []byte("bc"), "b": []byte("d")}}},
			b: input{[]Ref{secret("x", "")}, objects{"secret:x": {"a": []byte("b"), "b": []byte("cd")}}},
		},
		"bytes move between key and value": {
			a: input{[]Ref{secret("x", "")}, objects{"secret:x": {"ab": []byte("c")}}},
			b: input{[]Ref{secret("x", "")}, objects{"secret:x": {"a": []byte("bc")}}},
		},
		"absent vs empty": {
			a: input{[]Ref{secret("x", "")}, objects{}},
			b: input{[]Ref{secret("x", "")}, objects{"secret:x": {}}},
		},
		"a missing key vs an empty value": {
			a: input{[]Ref{secret("x", "k")}, objects{"secret:x": {}}},
			b: input{[]Ref{secret("x", "k")}, objects{"secret:x": {"k": nil}}},
		},
		"Secret vs ConfigMap of the same name and data": {
			a: input{[]Ref{secret("x", "")}, objects{"secret:x": {"k": []byte("v")}}},
			b: input{[]Ref{configMap("x", "")}, objects{"configmap:x": {"k": []byte("v")}}},
		},
		"a whole object vs one of its keys": {
			a: input{[]Ref{secret("x", "")}, objects{"secret:x": {"k": []byte("v")}}},
			b: input{[]Ref{secret("x", "k")}, objects{"secret:x": {"k": []byte("v")}}},
		},
		"one more missing reference": {
			a: input{[]Ref{secret("a", "")}, objects{}},
			b: input{[]Ref{secret("a", ""), secret("b", "")}, objects{}},
		},
		"no reference vs a missing one": {
			a: input{nil, objects{}},
			b: input{[]Ref{secret("a", "")}, objects{}},
		},
		"the order of references": {
			a: input{[]Ref{secret("a", ""), secret("b", "")}, objects{"secret:a": {"k": []byte("1")}, "secret:b": {"k": []byte("2")}}},
			b: input{[]Ref{secret("b", ""), secret("a", "")}, objects{"secret:a": {"k": []byte("1")}, "secret:b": {"k": []byte("2")}}},
		},
		"data moves to another object": {
			a: input{[]Ref{secret("a", ""), secret("b", "")}, objects{"secret:a": {"k": []byte("1")}, "secret:b": {}}},
			b: input{[]Ref{secret("a", ""), secret("b", "")}, objects{"secret:a": {}, "secret:b": {"k": []byte("1")}}},
		},
		"name and key split differently": {
			a: input{[]Ref{secret("a.b", "c")}, objects{"secret:a.b": {"c": nil}}},
			b: input{[]Ref{secret("a", "b.c")}, objects{"secret:a": {"b.c": nil}}},
		},
		"same: other keys of a key reference": {
			a:    input{[]Ref{configMap("shared", "app.yaml")}, shared},
			b:    input{[]Ref{configMap("shared", "app.yaml")}, objects{"configmap:shared": {"app.yaml": []byte("a: 1"), "other.yaml": []byte("y"), "new": nil}}},
			same: true,
		},
		"same: a missing object vs a missing key": {
			a:    input{[]Ref{configMap("shared", "app.yaml")}, objects{}},
			b:    input{[]Ref{configMap("shared", "app.yaml")}, objects{"configmap:shared": {"other.yaml": []byte("x")}}},
			same: true,
		},
		"same: optional or not": {
			a:    input{[]Ref{configMap("shared", "")}, shared},
			b:    input{[]Ref{optional(configMap("shared", ""))}, shared},
			same: true,
		},
		"same: objects not referenced": {
			a:    input{[]Ref{configMap("shared", "")}, shared},
			b:    input{[]Ref{configMap("shared", "")}, objects{"configmap:shared": shared["configmap:shared"], "secret:shared": {"k": nil}}},
			same: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if a, b := Hash(tc.a.refs, tc.a.ns.data), Hash(tc.b.refs, tc.b.ns.data); (a == b) != tc.same {
				t.Errorf("%+v and %+v: hashes %s and %s, want the same: %v", tc.a, tc.b, a, b, tc.same)
			}
		})
	}
}

func TestHashIsDeterministic(t *testing.T) {
	big := map[string][]byte{}
	for i := range 100 {
		big[string(rune('a'+i%26))+string(rune('0'+i/26))] = []byte{byte(i)}
	}
	refs := []Ref{secret("big", "")}
	first := Hash(refs, objects{"secret:big": big}.data)
	for range 20 {
		// A new map iterates in another order.
		if got := Hash(refs, objects{"secret:big": maps.Clone(big)}.data); got != first {
			t.Fatalf("Hash = %s then %s", first, got)
		}
	}
}

func TestConfigMapData(t *testing.T) {
	tests := map[string]struct {
		cm   corev1.ConfigMap
		want map[string][]byte
	}{
		"empty":       {want: map[string][]byte{}},
		"data":        {cm: corev1.ConfigMap{Data: map[string]string{"a": "1", "e": ""}}, want: map[string][]byte{"a": []byte("1"), "e": {}}},
		"binary data": {cm: corev1.ConfigMap{BinaryData: map[string][]byte{"b": {0, 1}}}, want: map[string][]byte{"b": {0, 1}}},
		"both": {
			cm:   corev1.ConfigMap{Data: map[string]string{"a": "1"}, BinaryData: map[string][]byte{"b": {2}}},
			want: map[string][]byte{"a": []byte("1"), "b": {2}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ConfigMapData(&tc.cm); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ConfigMapData = %v, want %v", got, tc.want)
			}
		})
	}
	// A key that moves from data to binaryData with the same bytes changes nothing.
	text := ConfigMapData(&corev1.ConfigMap{Data: map[string]string{"k": "v"}})
	binary := ConfigMapData(&corev1.ConfigMap{BinaryData: map[string][]byte{"k": []byte("v")}})
	refs := []Ref{configMap("c", "")}
	if Hash(refs, objects{"configmap:c": text}.data) != Hash(refs, objects{"configmap:c": binary}.data) {
		t.Error("data and binaryData with the same bytes hash differently")
	}
}
