package ownership

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certinel/certinel/pkg/annotations"
)

const (
	managedKeys = annotations.ManagedKeys
	fpKey       = annotations.KeystoresFingerprint
)

func secret(ann map[string]string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", Annotations: ann}, Data: data}
}

// userData is what a user or cert-manager put in the Secret.
func userData() map[string][]byte {
	return map[string][]byte{
		"tls.crt":  []byte("user cert"),
		"tls.key":  []byte("user key"),
		"ca.crt":   []byte("user ca"),
		"app.conf": []byte("user config"),
	}
}

func with(base map[string][]byte, kv ...string) map[string][]byte {
	out := maps.Clone(base)
	if out == nil {
		out = map[string][]byte{}
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = []byte(kv[i+1])
	}
	return out
}

func TestManaged(t *testing.T) {
	tests := map[string]struct {
		ann  map[string]string
		want []string
	}{
		"nil annotations":      {nil, nil},
		"no managed-keys":      {map[string]string{"x": "y"}, nil},
		"empty":                {map[string]string{managedKeys: ""}, nil},
		"one":                  {map[string]string{managedKeys: "keystore.jks"}, []string{"keystore.jks"}},
		"sorted":               {map[string]string{managedKeys: "truststore.jks,keystore.jks"}, []string{"keystore.jks", "truststore.jks"}},
		"spaces and empties":   {map[string]string{managedKeys: " b , ,a,, "}, []string{"a", "b"}},
		"duplicates":           {map[string]string{managedKeys: "a,b,a,b"}, []string{"a", "b"}},
		"keys of any feature":  {map[string]string{managedKeys: "ca.crt,keystore.p12"}, []string{"ca.crt", "keystore.p12"}},
		"only separators":      {map[string]string{managedKeys: ",,, ,"}, nil},
		"hand-edited tls.crt":  {map[string]string{managedKeys: "tls.crt"}, []string{"tls.crt"}},
		"separator is a comma": {map[string]string{managedKeys: "a b;c"}, []string{"a b;c"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Managed(secret(tc.ann, nil)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOwned(t *testing.T) {
	tests := map[string]struct {
		managed string
		want    []string
	}{
		"none":                          {"", nil},
		"all outputs":                   {"ca.crt.info,keystore.jks,keystore.p12,tls.crt.info,truststore.jks,truststore.p12", annotations.KeystoreOutputKeys},
		"other features' keys excluded": {"ca.crt,keystore.jks,something-else", []string{"keystore.jks"}},
		"inputs are never owned":        {"tls.crt,tls.key,ca.crt", nil},
		"near misses are not outputs":   {"keystore.JKS,keystore.jks.bak, truststore.jks", []string{"truststore.jks"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Keystores.Owned(secret(map[string]string{managedKeys: tc.managed}, nil))
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// Owned must not change the Feature's key list (it filters a copy).
	before := slices.Clone(Keystores.Keys)
	Keystores.Owned(secret(map[string]string{managedKeys: "keystore.jks"}, nil))
	if !slices.Equal(before, Keystores.Keys) {
		t.Errorf("Owned changed Keystores.Keys to %q", Keystores.Keys)
	}
}

func TestConflicts(t *testing.T) {
	tests := map[string]struct {
		managed string
		data    map[string][]byte
		want    []string
		expect  []string
	}{
		"empty secret":                 {"", nil, []string{"keystore.jks", "truststore.jks"}, nil},
		"user keys only":               {"", userData(), []string{"keystore.jks", "truststore.jks"}, nil},
		"user wrote keystore.jks":      {"", with(userData(), "keystore.jks", "mine"), []string{"keystore.jks", "truststore.jks"}, []string{"keystore.jks"}},
		"certinel wrote keystore.jks":  {"keystore.jks,truststore.jks", with(userData(), "keystore.jks", "x", "truststore.jks", "y"), []string{"keystore.jks", "truststore.jks"}, nil},
		"listed by another feature":    {"keystore.jks", with(nil, "keystore.jks", "x", "truststore.p12", "u"), []string{"keystore.p12", "truststore.p12"}, []string{"truststore.p12"}},
		"hand-edited list owns inputs": {"tls.crt", userData(), []string{"tls.crt"}, []string{"tls.crt"}},
		"every user output conflicts": {"", with(nil, "tls.crt.info", "u", "ca.crt.info", "u"),
			[]string{"ca.crt.info", "keystore.jks", "tls.crt.info"}, []string{"ca.crt.info", "tls.crt.info"}},
		"nothing wanted": {"", with(userData(), "keystore.jks", "mine"), nil, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := secret(map[string]string{managedKeys: tc.managed}, tc.data)
			if got := Keystores.Conflicts(s, tc.want); !reflect.DeepEqual(got, tc.expect) {
				t.Errorf("got %q, want %q", got, tc.expect)
			}
		})
	}
}

func TestUpToDate(t *testing.T) {
	want := []string{"keystore.jks", "truststore.jks"}
	outputs := with(userData(), "keystore.jks", "k", "truststore.jks", "t")
	tests := map[string]struct {
		ann  map[string]string
		data map[string][]byte
		fp   string
		want []string
		exp  bool
	}{
		"up to date": {
			map[string]string{managedKeys: "keystore.jks,truststore.jks", fpKey: "v1:a"}, outputs, "v1:a", want, true,
		},
		"other features' keys do not matter": {
			map[string]string{managedKeys: "ca.crt,keystore.jks,truststore.jks", fpKey: "v1:a"}, outputs, "v1:a", want, true,
		},
		"fingerprint differs": {
			map[string]string{managedKeys: "keystore.jks,truststore.jks", fpKey: "v1:a"}, outputs, "v1:b", want, false,
		},
		"no fingerprint yet": {
			map[string]string{managedKeys: "keystore.jks,truststore.jks"}, outputs, "v1:a", want, false,
		},
		"nil annotations": {nil, outputs, "v1:a", want, false},
		"an output was deleted by hand": {
			map[string]string{managedKeys: "keystore.jks,truststore.jks", fpKey: "v1:a"}, with(userData(), "keystore.jks", "k"), "v1:a", want, false,
		},
		"an output is no longer wanted": {
			map[string]string{managedKeys: "keystore.jks,keystore.p12,truststore.jks,truststore.p12", fpKey: "v1:a"},
			with(outputs, "keystore.p12", "p", "truststore.p12", "q"), "v1:a", want, false,
		},
		"a new output is wanted": {
			map[string]string{managedKeys: "keystore.jks,truststore.jks", fpKey: "v1:a"}, outputs, "v1:a",
			[]string{"keystore.jks", "tls.crt.info", "truststore.jks"}, false,
		},
		"outputs present but not recorded as ours": {
			map[string]string{fpKey: "v1:a"}, outputs, "v1:a", want, false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Keystores.UpToDate(secret(tc.ann, tc.data), tc.fp, tc.want); got != tc.exp {
				t.Errorf("got %v, want %v", got, tc.exp)
			}
		})
	}
}

func TestApply(t *testing.T) {
	jks := map[string][]byte{"keystore.jks": []byte("ks"), "truststore.jks": []byte("ts")}
	p12 := map[string][]byte{"keystore.p12": []byte("ks12"), "truststore.p12": []byte("ts12")}
	both := with(jks, "keystore.p12", "ks12", "truststore.p12", "ts12")

	tests := map[string]struct {
		ann      map[string]string
		data     map[string][]byte
		fp       string
		outputs  map[string][]byte
		wantData map[string][]byte
		wantAnn  map[string]string
	}{
		"nil data and nil annotations": {
			ann: nil, data: nil, fp: "v1:a", outputs: jks,
			wantData: jks,
			wantAnn:  map[string]string{managedKeys: digests("keystore.jks", "ks", "truststore.jks", "ts"), fpKey: "v1:a"},
		},
		"nil data and nil annotations, nothing to write": {
			ann: nil, data: nil, fp: "v1:a", outputs: nil,
			wantData: nil,
			wantAnn:  map[string]string{},
		},
		"first write keeps user keys and annotations": {
			ann: map[string]string{"team": "a"}, data: userData(), fp: "v1:a", outputs: both,
			wantData: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts", "keystore.p12", "ks12", "truststore.p12", "ts12"),
			wantAnn:  map[string]string{"team": "a", managedKeys: digests("keystore.jks", "ks", "keystore.p12", "ks12", "truststore.jks", "ts", "truststore.p12", "ts12"), fpKey: "v1:a"},
		},
		"update rewrites outputs and drops the ones no longer wanted": {
			ann:  map[string]string{managedKeys: "keystore.jks,keystore.p12,truststore.jks,truststore.p12", fpKey: "v1:a"},
			data: with(userData(), "keystore.jks", "old", "truststore.jks", "old", "keystore.p12", "old", "truststore.p12", "old"),
			fp:   "v1:b", outputs: p12,
			wantData: with(userData(), "keystore.p12", "ks12", "truststore.p12", "ts12"),
			wantAnn:  map[string]string{managedKeys: digests("keystore.p12", "ks12", "truststore.p12", "ts12"), fpKey: "v1:b"},
		},
		"removal with empty data removes exactly the feature's keys": {
			ann:  map[string]string{managedKeys: "ca.crt,keystore.jks,tls.crt.info,truststore.jks", fpKey: "v1:a", "team": "a"},
			data: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts", "tls.crt.info", "info"),
			fp:   "v1:a", outputs: map[string][]byte{},
			wantData: userData(),
			wantAnn:  map[string]string{managedKeys: "ca.crt", "team": "a"},
		},
		"removal with nil data": {
			ann:  map[string]string{managedKeys: "keystore.jks,truststore.jks", fpKey: "v1:a"},
			data: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts"),
			fp:   "v1:a", outputs: nil,
			wantData: userData(),
			wantAnn:  map[string]string{},
		},
		"hand-edited managed tls.crt is never deleted": {
			ann:  map[string]string{managedKeys: "keystore.jks,tls.crt,tls.key,truststore.jks", fpKey: "v1:a"},
			data: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts"),
			fp:   "v1:a", outputs: nil,
			wantData: userData(),
			wantAnn:  map[string]string{managedKeys: "tls.crt,tls.key"},
		},
		"hand-edited managed tls.crt survives an update": {
			ann:  map[string]string{managedKeys: "keystore.p12,tls.crt,truststore.p12", fpKey: "v1:a"},
			data: with(userData(), "keystore.p12", "old", "truststore.p12", "old"),
			fp:   "v1:b", outputs: jks,
			wantData: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts"),
			wantAnn:  map[string]string{managedKeys: digests("keystore.jks", "ks", "tls.crt", "", "truststore.jks", "ts"), fpKey: "v1:b"},
		},
		"user's own feature-named key is not removed": {
			ann:  map[string]string{managedKeys: "keystore.p12,truststore.p12", fpKey: "v1:a"},
			data: with(userData(), "keystore.jks", "mine", "keystore.p12", "old", "truststore.p12", "old"),
			fp:   "v1:a", outputs: nil,
			wantData: with(userData(), "keystore.jks", "mine"),
			wantAnn:  map[string]string{},
		},
		"listed output already deleted by hand": {
			ann:  map[string]string{managedKeys: "keystore.jks,truststore.jks", fpKey: "v1:a"},
			data: with(userData(), "truststore.jks", "ts"),
			fp:   "v1:b", outputs: jks,
			wantData: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts"),
			wantAnn:  map[string]string{managedKeys: digests("keystore.jks", "ks", "truststore.jks", "ts"), fpKey: "v1:b"},
		},
		"messy managed-keys is normalised": {
			ann:  map[string]string{managedKeys: " truststore.jks,, ca.crt ,ca.crt"},
			data: userData(),
			fp:   "v1:a", outputs: jks,
			wantData: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts"),
			wantAnn:  map[string]string{managedKeys: digests("ca.crt", "", "keystore.jks", "ks", "truststore.jks", "ts"), fpKey: "v1:a"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := secret(cloneAnn(tc.ann), cloneData(tc.data))
			Keystores.Apply(s, tc.fp, tc.outputs)
			if !equalData(s.Data, tc.wantData) {
				t.Errorf("data %q, want %q", s.Data, tc.wantData)
			}
			if want := split(tc.wantAnn); !reflect.DeepEqual(s.Annotations, want) {
				t.Errorf("annotations %q, want %q", s.Annotations, want)
			}
			// Applying the same outputs again changes nothing.
			again := s.DeepCopy()
			Keystores.Apply(again, tc.fp, tc.outputs)
			if !reflect.DeepEqual(again.Annotations, s.Annotations) || !equalData(again.Data, s.Data) {
				t.Errorf("Apply is not idempotent: %q %q", again.Annotations, again.Data)
			}
			// And the Secret is then up to date with those outputs.
			if len(tc.outputs) > 0 {
				keys := slices.Sorted(maps.Keys(tc.outputs))
				if !Keystores.UpToDate(s, tc.fp, keys) {
					t.Error("not UpToDate after Apply")
				}
				if c := Keystores.Conflicts(s, keys); len(c) > 0 {
					t.Errorf("conflicts with its own outputs: %q", c)
				}
			}
		})
	}
}

// TestApplyNeverTouchesUserKeys runs a lifecycle (write, update, remove)
// and checks the user's data after every step.
func TestApplyNeverTouchesUserKeys(t *testing.T) {
	s := secret(map[string]string{"team": "a"}, userData())
	check := func(step string) {
		t.Helper()
		for k, v := range userData() {
			if string(s.Data[k]) != string(v) {
				t.Fatalf("%s: user key %q is %q, want %q", step, k, s.Data[k], v)
			}
		}
		if s.Annotations["team"] != "a" {
			t.Fatalf("%s: user annotation lost", step)
		}
	}
	steps := []struct {
		name    string
		outputs map[string][]byte
	}{
		{"jks", map[string][]byte{"keystore.jks": []byte("1"), "truststore.jks": []byte("1")}},
		{"jks and cert-info", map[string][]byte{"keystore.jks": []byte("2"), "truststore.jks": []byte("2"), "tls.crt.info": []byte("2"), "ca.crt.info": []byte("2")}},
		{"pkcs12", map[string][]byte{"keystore.p12": []byte("3"), "truststore.p12": []byte("3")}},
		{"removed", nil},
	}
	for i, step := range steps {
		if c := Keystores.Conflicts(s, slices.Sorted(maps.Keys(step.outputs))); len(c) > 0 {
			t.Fatalf("%s: unexpected conflicts %q", step.name, c)
		}
		Keystores.Apply(s, "v1:"+string(rune('a'+i)), step.outputs)
		check(step.name)
		for _, k := range Keystores.Keys {
			_, has := s.Data[k]
			_, want := step.outputs[k]
			if has != want {
				t.Fatalf("%s: output %q present=%v, want %v", step.name, k, has, want)
			}
		}
	}
	if len(s.Data) != len(userData()) {
		t.Errorf("after removal data has %d keys, want the %d user keys", len(s.Data), len(userData()))
	}
	if _, ok := s.Annotations[managedKeys]; ok {
		t.Errorf("managed-keys left behind: %q", s.Annotations[managedKeys])
	}
	if _, ok := s.Annotations[fpKey]; ok {
		t.Error("fingerprint left behind")
	}
}

// TestApplyOtherFeature checks that a feature only ever removes its own keys.
func TestApplyOtherFeature(t *testing.T) {
	other := Feature{Keys: []string{"ca.crt"}, FingerprintAnnotation: "certinel.io/other-fingerprint"}
	s := secret(nil, map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")})
	if c := other.Conflicts(s, []string{"ca.crt"}); len(c) > 0 {
		t.Fatalf("conflicts %q", c)
	}
	Keystores.Apply(s, "v1:k", map[string][]byte{"keystore.jks": []byte("k"), "truststore.jks": []byte("t")})
	other.Apply(s, "v1:o", map[string][]byte{"ca.crt": []byte("injected")})
	if got, want := combined(s), digests("ca.crt", "injected", "keystore.jks", "k", "truststore.jks", "t"); got != want {
		t.Fatalf("managed-keys %q", got)
	}
	Keystores.Apply(s, "", nil)
	if got, want := combined(s), digests("ca.crt", "injected"); got != want {
		t.Errorf("after removing keystores, managed-keys %q, want %q", got, want)
	}
	if string(s.Data["ca.crt"]) != "injected" || s.Annotations["certinel.io/other-fingerprint"] != "v1:o" {
		t.Error("removing keystores touched the other feature's output")
	}
	if _, ok := s.Data["keystore.jks"]; ok {
		t.Error("keystore.jks not removed")
	}
	other.Apply(s, "", nil)
	if _, ok := s.Data["ca.crt"]; ok {
		t.Error("ca.crt not removed by its feature")
	}
	if len(s.Annotations) != 0 {
		t.Errorf("annotations left: %q", s.Annotations)
	}
	if len(s.Data) != 2 || string(s.Data["tls.crt"]) != "c" || string(s.Data["tls.key"]) != "k" {
		t.Errorf("data left: %q", s.Data)
	}
}

// digests is the managed-keys value for key, value pairs, in order; an empty
// value stands for an entry without a digest (hand-edited, or written before
// digests were recorded).
func digests(kv ...string) string {
	var items []string
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			items = append(items, kv[i])
		} else {
			items = append(items, kv[i]+"="+Digest([]byte(kv[i+1])))
		}
	}
	return strings.Join(items, ",")
}

// split turns a managed-keys value written as "key=digest,key" in a test
// into the two annotations certinel writes: managed-keys with the keys,
// managed-digests with the digests.
func split(ann map[string]string) map[string]string {
	v, ok := ann[managedKeys]
	if !ok {
		return ann
	}
	out := maps.Clone(ann)
	var keys, digests []string
	for _, item := range strings.Split(v, ",") {
		k, _, hasDigest := strings.Cut(item, "=")
		keys = append(keys, k)
		if hasDigest {
			digests = append(digests, item)
		}
	}
	out[managedKeys] = strings.Join(keys, ",")
	if len(digests) > 0 {
		out[annotations.ManagedDigests] = strings.Join(digests, ",")
	}
	return out
}

// combined is the inverse of split: managed-keys and managed-digests of s
// as one "key=digest,key" value.
func combined(s *corev1.Secret) string {
	var items []string
	for _, e := range entries(s) {
		if e.digest == "" {
			items = append(items, e.key)
		} else {
			items = append(items, e.key+"="+e.digest)
		}
	}
	return strings.Join(items, ",")
}

// A value that somebody replaced since certinel wrote it is left as it is
// and released, on removal and on regeneration; one written before digests
// were recorded is still removed.
func TestReplacedValues(t *testing.T) {
	written := split(map[string]string{managedKeys: digests("keystore.jks", "ks", "truststore.jks", "ts"), fpKey: "v1:a"})
	tests := map[string]struct {
		ann          map[string]string
		data         map[string][]byte
		outputs      map[string][]byte
		wantReplaced []string
		wantData     map[string][]byte
		wantManaged  string
	}{
		"removal leaves a replaced key": {
			ann: written, data: with(userData(), "keystore.jks", "mine", "truststore.jks", "ts"),
			wantReplaced: []string{"keystore.jks"},
			wantData:     with(userData(), "keystore.jks", "mine"),
		},
		"removal of untouched keys": {
			ann: written, data: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts"),
			wantData: userData(),
		},
		"regeneration releases a replaced key it no longer writes": {
			ann: written, data: with(userData(), "keystore.jks", "mine", "truststore.jks", "ts"),
			outputs:      map[string][]byte{"keystore.p12": []byte("p"), "truststore.p12": []byte("q")},
			wantReplaced: []string{"keystore.jks"},
			wantData:     with(userData(), "keystore.jks", "mine", "keystore.p12", "p", "truststore.p12", "q"),
			wantManaged:  digests("keystore.p12", "p", "truststore.p12", "q"),
		},
		"an entry without a digest is still ours": {
			ann:      map[string]string{managedKeys: "keystore.jks,truststore.jks", fpKey: "v1:a"},
			data:     with(userData(), "keystore.jks", "anything", "truststore.jks", "ts"),
			wantData: userData(),
		},
		"a deleted key is not replaced": {
			ann: written, data: with(userData(), "truststore.jks", "ts"),
			wantData: userData(),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := secret(cloneAnn(tc.ann), cloneData(tc.data))
			if got := Keystores.Replaced(s); !slices.Equal(got, tc.wantReplaced) {
				t.Errorf("Replaced = %q, want %q", got, tc.wantReplaced)
			}
			if c := Keystores.Conflicts(s, []string{"keystore.jks"}); len(tc.wantReplaced) > 0 && !slices.Equal(c, tc.wantReplaced) {
				t.Errorf("Conflicts = %q: a replaced key must not be overwritten", c)
			}
			Keystores.Apply(s, "v1:b", tc.outputs)
			if !equalData(s.Data, tc.wantData) {
				t.Errorf("data %q, want %q", s.Data, tc.wantData)
			}
			if got := combined(s); got != tc.wantManaged {
				t.Errorf("managed-keys %q, want %q", got, tc.wantManaged)
			}
		})
	}
}

func cloneAnn(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}

func cloneData(m map[string][]byte) map[string][]byte {
	if m == nil {
		return nil
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

func equalData(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || string(v) != string(w) {
			return false
		}
	}
	return true
}

// Whatever a user writes into managed-keys, reading it back gives sorted,
// unique, non-empty keys, and what Apply writes reads back as what it wrote.
func FuzzManagedKeys(f *testing.F) {
	for _, seed := range []string{"", "keystore.jks", "keystore.jks=0011223344556677,truststore.jks", " a = b ,, a", "=x", "k==", "tls.crt,keystore.jks=zz"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, managed string) {
		s := secret(map[string]string{managedKeys: managed}, map[string][]byte{"keystore.jks": []byte("user")})
		keys := Managed(s)
		if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) || slices.Contains(keys, "") {
			t.Fatalf("Managed(%q) = %q", managed, keys)
		}
		for _, k := range Keystores.Replaced(s) {
			if !slices.Contains(Keystores.Owned(s), k) {
				t.Fatalf("Replaced lists %q, which is not owned", k)
			}
		}
		out := map[string][]byte{"truststore.jks": []byte("t")}
		if len(Keystores.Conflicts(s, slices.Sorted(maps.Keys(out)))) > 0 {
			return
		}
		Keystores.Apply(s, "v1:f", out)
		if !Keystores.UpToDate(s, "v1:f", []string{"truststore.jks"}) || len(Keystores.Replaced(s)) != 0 {
			t.Fatalf("after Apply over %q: managed-keys %q", managed, s.Annotations[managedKeys])
		}
	})
}
