package annotations

import (
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/badinput"
)

func TestParseRouteSpec(t *testing.T) {
	tests := map[string]struct {
		ann    map[string]string
		want   RouteSpec
		asks   bool
		reason string
	}{
		"nothing":             {ann: map[string]string{"a": "b"}, want: RouteSpec{InjectCA: true}},
		"certs":               {ann: map[string]string{CertsFromSecret: " web-tls "}, asks: true, want: RouteSpec{CertsFrom: "web-tls", InjectCA: true}},
		"destination CA only": {ann: map[string]string{DestinationCAFromSecret: "backend"}, asks: true, want: RouteSpec{DestinationCAFrom: "backend", InjectCA: true}},
		"inject-ca false":     {ann: map[string]string{CertsFromSecret: "web-tls", InjectCA: "false"}, asks: true, want: RouteSpec{CertsFrom: "web-tls"}},
		"another namespace":   {ann: map[string]string{CertsFromSecret: "other/web-tls"}, asks: true, reason: badinput.InvalidAnnotation},
		"empty":               {ann: map[string]string{CertsFromSecret: ""}, asks: true, reason: badinput.InvalidAnnotation},
		"bad inject-ca":       {ann: map[string]string{CertsFromSecret: "web-tls", InjectCA: "no"}, asks: true, reason: badinput.InvalidAnnotation},
		"empty inject-ca":     {ann: map[string]string{CertsFromSecret: "web-tls", InjectCA: ""}, asks: true, reason: badinput.InvalidAnnotation},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, asks, err := ParseRouteSpec(tc.ann)
			if asks != tc.asks {
				t.Fatalf("asks = %t", asks)
			}
			if tc.reason != "" {
				if e, ok := badinput.As(err); !ok || e.Reason != tc.reason {
					t.Fatalf("err %v, want %s", err, tc.reason)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseIngressSecret(t *testing.T) {
	tests := map[string]struct {
		v      string
		want   SourceRef
		reason string
	}{
		"name":           {v: "web-tls", want: SourceRef{SecretSource, "web", "web-tls", TLSCertKey}},
		"ns/name":        {v: "pki/wildcard", want: SourceRef{SecretSource, "pki", "wildcard", TLSCertKey}},
		"too many parts": {v: "a/b/c", reason: badinput.InvalidAnnotation},
		"empty parts":    {v: "/b", reason: badinput.InvalidAnnotation},
		"empty":          {v: "", reason: badinput.InvalidAnnotation},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, asks, err := ParseIngressSecret("web", map[string]string{CertsFromSecret: tc.v})
			if !asks {
				t.Fatal("not seen")
			}
			if tc.reason != "" {
				if e, ok := badinput.As(err); !ok || e.Reason != tc.reason {
					t.Fatalf("err %v, want %s", err, tc.reason)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func FuzzParseRouteAndIngress(f *testing.F) {
	for _, seed := range []string{"web-tls", "a/b", "a/b/c", "", "/", " x ", "web-tls\x00", strings.Repeat("a", 300)} {
		f.Add(seed, "false")
	}
	f.Fuzz(func(t *testing.T, v, inject string) {
		spec, asks, err := ParseRouteSpec(map[string]string{CertsFromSecret: v, InjectCA: inject})
		if !asks {
			t.Fatal("not seen")
		}
		if err == nil && (spec.CertsFrom == "" || strings.Contains(spec.CertsFrom, "/")) {
			t.Fatalf("%q parsed as %+v", v, spec)
		}
		if _, bad := badinput.As(err); err != nil && !bad {
			t.Fatalf("error %v is not bad input", err)
		}
		ref, _, err := ParseIngressSecret("web", map[string]string{CertsFromSecret: v})
		if err == nil && (ref.Name == "" || ref.Namespace == "" || strings.Contains(ref.Name, "/")) {
			t.Fatalf("%q parsed as %+v", v, ref)
		}
	})
}
