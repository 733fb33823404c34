package annotations

import (
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/badinput"
)

func TestParseInjectSpec(t *testing.T) {
	secret := func(ns, name, key string) SourceRef {
		return SourceRef{Kind: SecretSource, Namespace: ns, Name: name, Key: key}
	}
	tests := map[string]struct {
		targetNS string
		ann      map[string]string
		want     InjectSpec
		wantOK   bool
		reason   string
	}{
		"nothing asked":         {ann: map[string]string{"a": "b"}},
		"secret ns/name":        {ann: map[string]string{InjectCAFrom: "pki/root-ca"}, wantOK: true, want: InjectSpec{secret("pki", "root-ca", "ca.crt"), "ca.crt"}},
		"secret ns/name/key":    {ann: map[string]string{InjectCAFrom: " pki/root-ca/tls.crt "}, wantOK: true, want: InjectSpec{secret("pki", "root-ca", "tls.crt"), "ca.crt"}},
		"configmap ns/name/key": {ann: map[string]string{InjectCAFromConfigMap: "pki/bundle/ca-bundle.crt"}, wantOK: true, want: InjectSpec{SourceRef{ConfigMapSource, "pki", "bundle", "ca-bundle.crt"}, "ca.crt"}},
		"name alone in a namespaced target": {targetNS: "apps", ann: map[string]string{InjectCAFrom: "root-ca", InjectCAKey: "bundle.pem"}, wantOK: true,
			want: InjectSpec{secret("apps", "root-ca", "ca.crt"), "bundle.pem"}},
		"name alone in a cluster-scoped target": {ann: map[string]string{InjectCAFrom: "root-ca"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"no slash where one is needed":          {ann: map[string]string{InjectCAFrom: "pki"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"empty":                                 {ann: map[string]string{InjectCAFrom: ""}, wantOK: true, reason: badinput.InvalidAnnotation},
		"empty parts":                           {ann: map[string]string{InjectCAFrom: "/root-ca"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"empty name":                            {ann: map[string]string{InjectCAFrom: "pki/"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"empty key":                             {ann: map[string]string{InjectCAFrom: "pki/root/"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"too many parts":                        {ann: map[string]string{InjectCAFrom: "pki/root/ca.crt/x"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"a slash only":                          {ann: map[string]string{InjectCAFrom: "/"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"bad namespace":                         {ann: map[string]string{InjectCAFrom: "PKI/root"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"both sources":                          {ann: map[string]string{InjectCAFrom: "a/b", InjectCAFromConfigMap: "a/b"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"bad target key":                        {targetNS: "apps", ann: map[string]string{InjectCAFrom: "a/b", InjectCAKey: "no/slash"}, wantOK: true, reason: badinput.InvalidAnnotation},
		"very long value":                       {ann: map[string]string{InjectCAFrom: strings.Repeat("a/", 5000)}, wantOK: true, reason: badinput.InvalidAnnotation},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok, err := ParseInjectSpec(tc.targetNS, tc.ann)
			if ok != tc.wantOK {
				t.Fatalf("ok = %t, want %t", ok, tc.wantOK)
			}
			if tc.reason != "" {
				e, isBad := badinput.As(err)
				if !isBad || e.Reason != tc.reason {
					t.Fatalf("err = %v, want reason %s", err, tc.reason)
				}
				if len(e.Message) > 512 {
					t.Errorf("message of %d bytes", len(e.Message))
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func FuzzParseInjectSpec(f *testing.F) {
	for _, seed := range []string{"pki/root", "pki/root/ca.crt", "root", "/", "//", "a/b/c/d", "", " x / y ", "pki/root\x00"} {
		f.Add(seed, "", true)
		f.Add(seed, "apps", false)
	}
	f.Fuzz(func(t *testing.T, v, targetNS string, fromSecret bool) {
		key := InjectCAFromConfigMap
		if fromSecret {
			key = InjectCAFrom
		}
		spec, ok, err := ParseInjectSpec(targetNS, map[string]string{key: v})
		if !ok {
			t.Fatal("an injection annotation was not seen")
		}
		if err != nil {
			if _, bad := badinput.As(err); !bad {
				t.Fatalf("error %v is not bad input", err)
			}
			return
		}
		if spec.Source.Name == "" || spec.Source.Namespace == "" || spec.Source.Key == "" || strings.Contains(spec.Source.Name, "/") {
			t.Fatalf("%q parsed as %+v", v, spec)
		}
		if targetNS == "" && !strings.Contains(v, "/") {
			t.Fatalf("a cluster-scoped target took %q without a namespace", v)
		}
	})
}
