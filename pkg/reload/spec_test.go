package reload

import (
	"reflect"
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/testpki"
)

func secret(name, key string) Ref {
	return Ref{Kind: annotations.SecretSource, Name: name, Key: key}
}

func configMap(name, key string) Ref {
	return Ref{Kind: annotations.ConfigMapSource, Name: name, Key: key}
}

func optional(r Ref) Ref {
	r.Optional = true
	return r
}

func TestParseSpec(t *testing.T) {
	tests := map[string]struct {
		ann       map[string]string
		want      Spec
		wantAsks  bool
		wantErr   bool // the reason is always InvalidAnnotation
		wantInMsg []string
	}{
		"nil annotations ask for nothing": {},
		"unrelated annotations ask for nothing": {
			ann: map[string]string{"reloader.stakater.com/auto": "true", "certinel.io/keystores": "jks", annotations.ConfigHash: "x"},
		},
		"auto": {
			ann: map[string]string{annotations.Reload: "auto"}, want: Spec{Auto: true}, wantAsks: true,
		},
		"auto in any case, trimmed": {
			ann: map[string]string{annotations.Reload: "  AUTO "}, want: Spec{Auto: true}, wantAsks: true,
		},
		"reload true is not auto": {
			ann: map[string]string{annotations.Reload: "true"}, wantAsks: true, wantErr: true,
			wantInMsg: []string{annotations.Reload, `"true"`, `"auto"`, annotations.ReloadSecrets},
		},
		"reload false": {
			ann: map[string]string{annotations.Reload: "false"}, wantAsks: true, wantErr: true,
		},
		"reload empty": {
			ann: map[string]string{annotations.Reload: " "}, wantAsks: true, wantErr: true, wantInMsg: []string{`""`},
		},
		"one secret": {
			ann: map[string]string{annotations.ReloadSecrets: "tls"}, wantAsks: true,
			want: Spec{Secrets: []Ref{secret("tls", "")}},
		},
		"secrets trimmed, sorted, de-duplicated": {
			ann: map[string]string{annotations.ReloadSecrets: " b , a,, b ,a/key , c/ca.crt,c/ca.crt, c/tls.crt "}, wantAsks: true,
			want: Spec{Secrets: []Ref{secret("a", ""), secret("b", ""), secret("c", "ca.crt"), secret("c", "tls.crt")}},
		},
		"blanks around the slash": {
			ann: map[string]string{annotations.ReloadConfigMaps: "app-config / settings.yaml"}, wantAsks: true,
			want: Spec{ConfigMaps: []Ref{configMap("app-config", "settings.yaml")}},
		},
		"configmaps and secrets with the same names stay apart": {
			ann: map[string]string{annotations.ReloadConfigMaps: "x,y/k", annotations.ReloadSecrets: "x"}, wantAsks: true,
			want: Spec{Secrets: []Ref{secret("x", "")}, ConfigMaps: []Ref{configMap("x", ""), configMap("y", "k")}},
		},
		"explicit lists and auto": {
			ann:      map[string]string{annotations.ReloadConfigMaps: "cm", annotations.Reload: "auto"},
			wantAsks: true, want: Spec{ConfigMaps: []Ref{configMap("cm", "")}, Auto: true},
		},
		"an empty list asks for nothing to reload": {
			ann: map[string]string{annotations.ReloadSecrets: " , "}, wantAsks: true,
		},
		"a dotted name is a DNS subdomain": {
			ann: map[string]string{annotations.ReloadSecrets: "tls.example.com"}, wantAsks: true,
			want: Spec{Secrets: []Ref{secret("tls.example.com", "")}},
		},
		"upper case name": {
			ann: map[string]string{annotations.ReloadSecrets: "ok,Bad_Name"}, wantAsks: true, wantErr: true,
			wantInMsg: []string{annotations.ReloadSecrets, `"Bad_Name"`, `"name/key"`, "Secret"},
		},
		"name too long": {
			ann: map[string]string{annotations.ReloadConfigMaps: strings.Repeat("a", 254)}, wantAsks: true, wantErr: true,
			wantInMsg: []string{annotations.ReloadConfigMaps, "(254 characters)", "ConfigMap"},
		},
		"empty key": {
			ann: map[string]string{annotations.ReloadSecrets: "tls/"}, wantAsks: true, wantErr: true, wantInMsg: []string{`"tls/"`},
		},
		"empty name": {
			ann: map[string]string{annotations.ReloadSecrets: "/ca.crt"}, wantAsks: true, wantErr: true,
		},
		"two slashes": {
			ann: map[string]string{annotations.ReloadSecrets: "ns/tls/ca.crt"}, wantAsks: true, wantErr: true,
		},
		"bad key": {
			ann: map[string]string{annotations.ReloadConfigMaps: "cm/a b"}, wantAsks: true, wantErr: true,
		},
		"a bad list fails even with auto": {
			ann: map[string]string{annotations.Reload: "auto", annotations.ReloadConfigMaps: "cm/.."}, wantAsks: true, wantErr: true,
		},
		"semicolons are not separators": {
			ann: map[string]string{annotations.ReloadSecrets: "a;b"}, wantAsks: true, wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec, asks, err := ParseSpec(tc.ann)
			if asks != tc.wantAsks {
				t.Errorf("asks = %v, want %v", asks, tc.wantAsks)
			}
			if tc.wantErr {
				e := testpki.RequireReason(t, err, badinput.InvalidAnnotation)
				for _, s := range tc.wantInMsg {
					if !strings.Contains(e.Message, s) {
						t.Errorf("message %q does not contain %q", e.Message, s)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}
			// On error, the zero Spec.
			if !reflect.DeepEqual(spec, tc.want) {
				t.Errorf("spec %+v, want %+v", spec, tc.want)
			}
		})
	}
}

func TestIgnored(t *testing.T) {
	tests := map[string]struct {
		ann     map[string]string
		want    bool
		wantErr bool
	}{
		"absent":            {ann: map[string]string{"other": "true"}},
		"true":              {ann: map[string]string{annotations.ReloadIgnore: "true"}, want: true},
		"True, trimmed":     {ann: map[string]string{annotations.ReloadIgnore: " True "}, want: true},
		"false":             {ann: map[string]string{annotations.ReloadIgnore: "false"}},
		"yes is a mistake":  {ann: map[string]string{annotations.ReloadIgnore: "yes"}, wantErr: true},
		"empty is an error": {ann: map[string]string{annotations.ReloadIgnore: ""}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Ignored(tc.ann)
			if tc.wantErr {
				testpki.RequireReason(t, err, badinput.InvalidAnnotation)
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Ignored = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBaseline(t *testing.T) {
	h := Hash(nil, nil)
	tests := map[string]struct {
		ann  map[string]string
		want string
	}{
		"none":                   {ann: nil},
		"a hash":                 {ann: map[string]string{annotations.ConfigHash: h}, want: h},
		"upper case is not ours": {ann: map[string]string{annotations.ConfigHash: strings.ToUpper(h)}},
		"too short":              {ann: map[string]string{annotations.ConfigHash: h[:63]}},
		"hand-edited":            {ann: map[string]string{annotations.ConfigHash: "please-roll"}},
		"blanks":                 {ann: map[string]string{annotations.ConfigHash: " " + h}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Baseline(tc.ann); got != tc.want {
				t.Errorf("Baseline = %q, want %q", got, tc.want)
			}
		})
	}
}
