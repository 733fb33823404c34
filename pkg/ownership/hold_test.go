package ownership

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/annotations"
)

// A Secret whose outputs are held as a record (Hold) answers every question
// of the feature as the Secret with its values does, and Apply then writes
// the same keys and bookkeeping.
func TestHoldAnswersAsTheValues(t *testing.T) {
	written := split(map[string]string{managedKeys: digests("keystore.jks", "ks", "truststore.jks", "ts", "tls.crt.info", "info"), fpKey: "v1:a"})
	tests := map[string]struct {
		ann      map[string]string
		data     map[string][]byte
		wantHeld []string
	}{
		"untouched outputs": {
			ann: written, data: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts", "tls.crt.info", "info"),
			wantHeld: []string{"keystore.jks", "tls.crt.info", "truststore.jks"},
		},
		"a replaced output": {
			ann: written, data: with(userData(), "keystore.jks", "mine", "truststore.jks", "ts"),
			wantHeld: []string{"keystore.jks", "truststore.jks"},
		},
		"a deleted output": {
			ann: written, data: with(userData(), "truststore.jks", "ts"),
			wantHeld: []string{"truststore.jks"},
		},
		"an emptied output": {
			ann: written, data: with(userData(), "keystore.jks", "", "truststore.jks", "ts"),
			wantHeld: []string{"truststore.jks"},
		},
		"outputs without digests": {
			ann: map[string]string{managedKeys: "keystore.jks,truststore.jks", fpKey: "v1:a"}, data: with(userData(), "keystore.jks", "ks", "truststore.jks", "ts"),
			wantHeld: []string{"keystore.jks", "truststore.jks"},
		},
		"a user key listed by hand": {
			ann: split(map[string]string{managedKeys: "tls.crt,keystore.jks=" + Digest([]byte("ks"))}), data: with(userData(), "keystore.jks", "ks"),
			wantHeld: []string{"keystore.jks"},
		},
		"nothing written": {ann: map[string]string{"certinel.io/keystores": "jks"}, data: userData()},
		"no data":         {ann: written},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			whole := secret(cloneAnn(tc.ann), cloneData(tc.data))
			held := secret(cloneAnn(tc.ann), cloneData(tc.data))
			values := Keystores.Hold(held)
			if got := slices.Sorted(maps.Keys(values)); !slices.Equal(got, tc.wantHeld) {
				t.Fatalf("Hold = %q, want %q", got, tc.wantHeld)
			}
			for k, v := range values {
				if string(v) != string(tc.data[k]) {
					t.Errorf("Hold returned %s = %q, want the value it let go, %q", k, v, tc.data[k])
				}
			}
			if got := Held(held); !slices.Equal(got, tc.wantHeld) {
				t.Errorf("Held = %q, want %q", got, tc.wantHeld)
			}
			for _, k := range tc.wantHeld {
				if v, ok := held.Data[k]; !ok || len(v) != 0 {
					t.Errorf("held key %s: %q, want an empty value", k, v)
				}
			}
			for k, v := range tc.data {
				if !slices.Contains(tc.wantHeld, k) && string(held.Data[k]) != string(v) {
					t.Errorf("key %s not held changed: %q", k, held.Data[k])
				}
			}
			if a, b := Keystores.Replaced(whole), Keystores.Replaced(held); !slices.Equal(a, b) {
				t.Errorf("Replaced: %q with the values, %q held", a, b)
			}
			if a, b := Size(whole), Size(held); a != b {
				t.Errorf("Size: %d with the values, %d held", a, b)
			}
			for _, want := range [][]string{nil, {"keystore.jks"}, {"keystore.jks", "truststore.jks"}, {"tls.crt"}} {
				if a, b := Keystores.Conflicts(whole, want), Keystores.Conflicts(held, want); !slices.Equal(a, b) {
					t.Errorf("Conflicts(%q): %q with the values, %q held", want, a, b)
				}
				if a, b := Keystores.UpToDate(whole, "v1:a", want), Keystores.UpToDate(held, "v1:a", want); a != b {
					t.Errorf("UpToDate(%q): %v with the values, %v held", want, a, b)
				}
			}
			out := map[string][]byte{"keystore.p12": []byte("p"), "truststore.jks": []byte("t2")}
			Keystores.Apply(whole, "v1:b", out)
			Keystores.Apply(held, "v1:b", out)
			if a, b := combined(whole), combined(held); a != b {
				t.Errorf("managed-keys after Apply: %q with the values, %q held", a, b)
			}
			for k := range whole.Data {
				if _, ok := held.Data[k]; !ok {
					t.Errorf("after Apply, key %s is missing from the held Secret", k)
				}
			}
			for k, v := range out {
				if string(held.Data[k]) != string(v) {
					t.Errorf("after Apply, %s = %q, want %q", k, held.Data[k], v)
				}
			}
			if a, b := Size(whole), Size(held); a != b {
				t.Errorf("Size after Apply: %d with the values, %d held", a, b)
			}
		})
	}
}

// The record counts only for a value that is empty: a value written since
// (by Apply) is read as it is, and a record naming a key the Secret does
// not have, or a malformed one, stands for nothing.
func TestHeldRecordOnlyForEmptyValues(t *testing.T) {
	s := secret(map[string]string{
		managedKeys:    "keystore.jks,truststore.jks",
		HeldAnnotation: "keystore.jks=3:" + Digest([]byte("old")) + ",truststore.jks=x:y,keystore.p12=4:" + Digest([]byte("gone")),
	}, with(userData(), "keystore.jks", "new", "truststore.jks", ""))
	if got := Held(s); len(got) != 0 {
		t.Errorf("Held = %q, want none", got)
	}
	if d, _ := digestOf(s, heldRecord(s), "keystore.jks"); d != Digest([]byte("new")) {
		t.Errorf("digest of a value written since the record: %s, want the value's", d)
	}
	s.Data["keystore.jks"] = []byte{}
	if got := Held(s); !slices.Equal(got, []string{"keystore.jks"}) {
		t.Errorf("Held = %q, want keystore.jks", got)
	}
	if d, _ := digestOf(s, heldRecord(s), "keystore.jks"); d != Digest([]byte("old")) {
		t.Errorf("digest of a held value: %s, want the recorded one", d)
	}
	if !strings.HasPrefix(HeldAnnotation, "internal.certinel.io/") || strings.HasPrefix(HeldAnnotation, annotations.Prefix) {
		t.Errorf("HeldAnnotation %s is not a cache-only key", HeldAnnotation)
	}
}
