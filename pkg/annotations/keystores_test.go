package annotations

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/testpki"
)

// defaults is what ParseKeystoreSpec returns for a Secret without any
// section 1 annotation.
func defaults() KeystoreSpec {
	return KeystoreSpec{Alias: DefaultAlias, Profile: Modern2023}
}

func TestParseKeystoreSpec(t *testing.T) {
	const ns = "app"
	tests := map[string]struct {
		ann map[string]string
		// want is applied to defaults(); nil means the defaults.
		want       func(*KeystoreSpec)
		wantReason string // non-empty: ParseKeystoreSpec fails with this reason
		wantInMsg  []string
	}{
		"nil annotations give the defaults": {
			ann: nil,
		},
		"unrelated annotations are ignored": {
			ann: map[string]string{"example.com/keystores": "bogus", "certinel.io/unknown": "x"},
		},
		"format jks": {
			ann:  map[string]string{Keystores: "jks"},
			want: func(s *KeystoreSpec) { s.Formats = []Format{JKS} },
		},
		"format pkcs12": {
			ann:  map[string]string{Keystores: "pkcs12"},
			want: func(s *KeystoreSpec) { s.Formats = []Format{PKCS12} },
		},
		"both formats, mixed case and spaces": {
			ann:  map[string]string{Keystores: "JKS, pkcs12"},
			want: func(s *KeystoreSpec) { s.Formats = []Format{JKS, PKCS12} },
		},
		"formats are sorted": {
			ann:  map[string]string{Keystores: "pkcs12,jks"},
			want: func(s *KeystoreSpec) { s.Formats = []Format{JKS, PKCS12} },
		},
		"duplicate formats are merged": {
			ann:  map[string]string{Keystores: "jks,JKS, jks ,Jks"},
			want: func(s *KeystoreSpec) { s.Formats = []Format{JKS} },
		},
		"empty list items are skipped": {
			ann:  map[string]string{Keystores: " , jks,, pkcs12 , "},
			want: func(s *KeystoreSpec) { s.Formats = []Format{JKS, PKCS12} },
		},
		"blank keystores asks for nothing": {
			ann: map[string]string{Keystores: "   "},
		},
		"unknown format": {
			ann:        map[string]string{Keystores: "jks,p12"},
			wantReason: badinput.UnknownKeystoreFormat,
			wantInMsg:  []string{Keystores, `"p12"`},
		},
		"unknown format pem": {
			ann:        map[string]string{Keystores: "pem"},
			wantReason: badinput.UnknownKeystoreFormat,
		},
		"profile modern2026": {
			ann:  map[string]string{PKCS12Profile: "modern2026"},
			want: func(s *KeystoreSpec) { s.Profile = Modern2026 },
		},
		"profile is case-insensitive and trimmed": {
			ann:  map[string]string{PKCS12Profile: "  Legacy-RC2 "},
			want: func(s *KeystoreSpec) { s.Profile = LegacyRC2 },
		},
		"profile legacy-des": {
			ann:  map[string]string{PKCS12Profile: "legacy-des"},
			want: func(s *KeystoreSpec) { s.Profile = LegacyDES },
		},
		"blank profile is the default": {
			ann: map[string]string{PKCS12Profile: " "},
		},
		"unknown profile": {
			ann:        map[string]string{PKCS12Profile: "modern2027"},
			wantReason: badinput.UnknownPKCS12Profile,
			wantInMsg:  []string{PKCS12Profile, `"modern2027"`, "modern2023, modern2026, legacy-rc2, legacy-des"},
		},
		"both password annotations": {
			ann:        map[string]string{KeystorePassword: "secret", KeystorePasswordSecret: "pw"},
			wantReason: badinput.InvalidAnnotation,
			wantInMsg:  []string{KeystorePassword, KeystorePasswordSecret},
		},
		"both password annotations even when the literal is empty": {
			ann:        map[string]string{KeystorePassword: "", KeystorePasswordSecret: "pw"},
			wantReason: badinput.InvalidAnnotation,
		},
		"empty literal password": {
			ann:        map[string]string{KeystorePassword: ""},
			wantReason: badinput.InvalidPassword,
			wantInMsg:  []string{KeystorePassword},
		},
		"whitespace-only literal password": {
			ann:        map[string]string{KeystorePassword: " \t \n "},
			wantReason: badinput.InvalidPassword,
			wantInMsg:  []string{KeystorePassword, "white space"},
		},
		"literal password": {
			ann:  map[string]string{KeystorePassword: "s3cret"},
			want: func(s *KeystoreSpec) { s.Password = Password{Literal: "s3cret", HasLiteral: true} },
		},
		"literal password is trimmed, inner spaces kept": {
			ann:  map[string]string{KeystorePassword: "  two words "},
			want: func(s *KeystoreSpec) { s.Password = Password{Literal: "two words", HasLiteral: true} },
		},
		"password secret name uses the default key": {
			ann:  map[string]string{KeystorePasswordSecret: "store-password"},
			want: func(s *KeystoreSpec) { s.Password = Password{SecretName: "store-password", SecretKey: "password"} },
		},
		"password secret name/key": {
			ann:  map[string]string{KeystorePasswordSecret: " store-password/jks.pass "},
			want: func(s *KeystoreSpec) { s.Password = Password{SecretName: "store-password", SecretKey: "jks.pass"} },
		},
		"password secret with a trailing slash uses the default key": {
			ann:  map[string]string{KeystorePasswordSecret: "store-password/"},
			want: func(s *KeystoreSpec) { s.Password = Password{SecretName: "store-password", SecretKey: "password"} },
		},
		"password secret with an invalid name": {
			ann:        map[string]string{KeystorePasswordSecret: "Store_Password"},
			wantReason: badinput.InvalidAnnotation,
			wantInMsg:  []string{KeystorePasswordSecret, "Store_Password"},
		},
		"password secret empty": {
			ann:        map[string]string{KeystorePasswordSecret: " "},
			wantReason: badinput.InvalidAnnotation,
		},
		"password secret with an invalid key": {
			ann:        map[string]string{KeystorePasswordSecret: "pw/bad key"},
			wantReason: badinput.InvalidAnnotation,
		},
		"password secret in another namespace is refused": {
			ann:        map[string]string{KeystorePasswordSecret: "other-ns/pw/password"},
			wantReason: badinput.InvalidAnnotation,
		},
		"alias is lower-cased and trimmed": {
			ann:  map[string]string{KeystoreAlias: "  My-Tomcat "},
			want: func(s *KeystoreSpec) { s.Alias = "my-tomcat" },
		},
		"alias with spaces and unicode": {
			ann:  map[string]string{KeystoreAlias: "Server Ключ"},
			want: func(s *KeystoreSpec) { s.Alias = "server ключ" },
		},
		"alias of 255 characters": {
			ann:  map[string]string{KeystoreAlias: strings.Repeat("a", 255)},
			want: func(s *KeystoreSpec) { s.Alias = strings.Repeat("a", 255) },
		},
		"alias of 256 characters": {
			ann:        map[string]string{KeystoreAlias: strings.Repeat("a", 256)},
			wantReason: badinput.InvalidAnnotation,
			wantInMsg:  []string{KeystoreAlias},
		},
		"empty alias": {
			ann:        map[string]string{KeystoreAlias: "  "},
			wantReason: badinput.InvalidAnnotation,
		},
		"alias with a control character": {
			ann:        map[string]string{KeystoreAlias: "a\tb"},
			wantReason: badinput.InvalidAnnotation,
		},
		"alias with a newline": {
			ann:        map[string]string{KeystoreAlias: "a\nb"},
			wantReason: badinput.InvalidAnnotation,
		},
		"cert-info true": {
			ann:  map[string]string{CertInfo: "true"},
			want: func(s *KeystoreSpec) { s.CertInfo = true },
		},
		"cert-info TRUE": {
			ann:  map[string]string{CertInfo: " TRUE "},
			want: func(s *KeystoreSpec) { s.CertInfo = true },
		},
		"cert-info false": {
			ann: map[string]string{CertInfo: "false"},
		},
		"cert-info yes is refused": {
			ann:        map[string]string{CertInfo: "yes"},
			wantReason: badinput.InvalidAnnotation,
			wantInMsg:  []string{CertInfo, `"yes"`},
		},
		"cert-info 1 is refused": {
			ann:        map[string]string{CertInfo: "1"},
			wantReason: badinput.InvalidAnnotation,
		},
		"target": {
			ann:  map[string]string{KeystoresTarget: " app-keystores "},
			want: func(s *KeystoreSpec) { s.Target = "app-keystores" },
		},
		"target with dots": {
			ann:  map[string]string{KeystoresTarget: "app.keystores"},
			want: func(s *KeystoreSpec) { s.Target = "app.keystores" },
		},
		"target with an invalid name": {
			ann:        map[string]string{KeystoresTarget: "App_Keystores"},
			wantReason: badinput.InvalidAnnotation,
			wantInMsg:  []string{KeystoresTarget, "App_Keystores"},
		},
		"target too long": {
			ann:        map[string]string{KeystoresTarget: strings.Repeat("a", 254)},
			wantReason: badinput.InvalidAnnotation,
		},
		"truststore sources are parsed in the Secret's namespace": {
			ann: map[string]string{TruststoreSources: "secret:root-ca, configmap:trust/bundle/bundle.pem"},
			want: func(s *KeystoreSpec) {
				s.TruststoreSources = []SourceRef{
					{Kind: ConfigMapSource, Namespace: "trust", Name: "bundle", Key: "bundle.pem"},
					{Kind: SecretSource, Namespace: ns, Name: "root-ca", Key: "ca.crt"},
				}
			},
		},
		"invalid truststore source": {
			ann:        map[string]string{TruststoreSources: "vault:root-ca"},
			wantReason: badinput.InvalidAnnotation,
			wantInMsg:  []string{TruststoreSources, "vault:root-ca"},
		},
		"everything at once": {
			ann: map[string]string{
				Keystores:              "pkcs12, jks",
				KeystorePasswordSecret: "pw/key",
				KeystoreAlias:          "Tomcat",
				PKCS12Profile:          "legacy-des",
				TruststoreSources:      "secret:other/ca",
				KeystoresTarget:        "out",
				CertInfo:               "true",
			},
			want: func(s *KeystoreSpec) {
				*s = KeystoreSpec{
					Formats:           []Format{JKS, PKCS12},
					Password:          Password{SecretName: "pw", SecretKey: "key"},
					Alias:             "tomcat",
					Profile:           LegacyDES,
					TruststoreSources: []SourceRef{{Kind: SecretSource, Namespace: "other", Name: "ca", Key: "ca.crt"}},
					Target:            "out",
					CertInfo:          true,
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseKeystoreSpec(ns, tc.ann)
			if tc.wantReason != "" {
				e := testpki.RequireReason(t, err, tc.wantReason)
				for _, s := range tc.wantInMsg {
					if !strings.Contains(e.Message, s) {
						t.Errorf("message %q does not mention %q", e.Message, s)
					}
				}
				if !reflect.DeepEqual(got, KeystoreSpec{}) {
					t.Errorf("on error got spec %+v, want the zero spec", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			want := defaults()
			if tc.want != nil {
				tc.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseSourceList(t *testing.T) {
	const (
		key         = "example.io/sources"
		ns          = "app"
		noNamespace = "<none>"
	)
	ref := func(kind SourceKind, ns, name, key string) SourceRef {
		return SourceRef{Kind: kind, Namespace: ns, Name: name, Key: key}
	}
	tests := map[string]struct {
		namespace string // defaults to ns
		value     string
		want      []SourceRef
		wantErr   []string // substrings of the error message; nil means no error
	}{
		"empty":                             {value: "", want: nil},
		"only separators":                   {value: " , ,", want: nil},
		"secret name":                       {value: "secret:root-ca", want: []SourceRef{ref(SecretSource, ns, "root-ca", "ca.crt")}},
		"secret name/ca.crt":                {value: "secret:root-ca/ca.crt", want: []SourceRef{ref(SecretSource, ns, "root-ca", "ca.crt")}},
		"secret name/key with a dot":        {value: "secret:root-ca/tls.crt", want: []SourceRef{ref(SecretSource, ns, "root-ca", "tls.crt")}},
		"secret ns/name":                    {value: "secret:cert-manager/root-ca", want: []SourceRef{ref(SecretSource, "cert-manager", "root-ca", "ca.crt")}},
		"secret ns/name/key":                {value: "secret:cert-manager/root-ca/bundle.pem", want: []SourceRef{ref(SecretSource, "cert-manager", "root-ca", "bundle.pem")}},
		"secret ns/name/key without dot":    {value: "secret:other/root-ca/bundle", want: []SourceRef{ref(SecretSource, "other", "root-ca", "bundle")}},
		"dotted name then key is name/key":  {value: "secret:root.ca/bundle", want: []SourceRef{ref(SecretSource, ns, "root.ca", "bundle")}},
		"two parts without a dot are ns/nm": {value: "secret:other/bundle", want: []SourceRef{ref(SecretSource, "other", "bundle", "ca.crt")}},
		"configmap name":                    {value: "configmap:trust-bundle", want: []SourceRef{ref(ConfigMapSource, ns, "trust-bundle", "ca.crt")}},
		"configmap name/key":                {value: "configmap:trust-bundle/root-certs.pem", want: []SourceRef{ref(ConfigMapSource, ns, "trust-bundle", "root-certs.pem")}},
		"configmap ns/name":                 {value: "configmap:kube-system/trust-bundle", want: []SourceRef{ref(ConfigMapSource, "kube-system", "trust-bundle", "ca.crt")}},
		// Two parts are "ns/name" unless the second has a dot: then they are
		// "name/key". A dotted name in another namespace needs the key spelled out.
		"ns/dotted-name is read as name/key": {value: "configmap:kube-system/kube-root-ca.crt", want: []SourceRef{ref(ConfigMapSource, ns, "kube-system", "kube-root-ca.crt")}},
		"configmap ns/name/key":              {value: "configmap:kube-system/kube-root-ca.crt/ca.crt", want: []SourceRef{ref(ConfigMapSource, "kube-system", "kube-root-ca.crt", "ca.crt")}},
		"kind is case-insensitive":           {value: "ConfigMap:trust, SECRET:ca", want: []SourceRef{ref(ConfigMapSource, ns, "trust", "ca.crt"), ref(SecretSource, ns, "ca", "ca.crt")}},
		"spaces around kind and path":        {value: " secret : root-ca ", want: []SourceRef{ref(SecretSource, ns, "root-ca", "ca.crt")}},
		"sorted by kind, namespace, name, key": {
			value: "secret:b, secret:a/tls.crt, secret:a, configmap:z, secret:a-ns/a",
			want: []SourceRef{
				ref(ConfigMapSource, ns, "z", "ca.crt"),
				ref(SecretSource, "a-ns", "a", "ca.crt"),
				ref(SecretSource, ns, "a", "ca.crt"),
				ref(SecretSource, ns, "a", "tls.crt"),
				ref(SecretSource, ns, "b", "ca.crt"),
			},
		},
		"duplicates in different spellings are merged": {
			value: "secret:root-ca, secret:root-ca/ca.crt, Secret:app/root-ca, secret:app/root-ca/ca.crt, secret:root-ca",
			want:  []SourceRef{ref(SecretSource, ns, "root-ca", "ca.crt")},
		},
		"same name in two kinds is two sources": {
			value: "secret:ca,configmap:ca",
			want:  []SourceRef{ref(ConfigMapSource, ns, "ca", "ca.crt"), ref(SecretSource, ns, "ca", "ca.crt")},
		},
		"unknown kind":             {value: "vault:root-ca", wantErr: []string{key, "vault:root-ca", `unknown kind "vault"`}},
		"missing kind":             {value: "root-ca", wantErr: []string{key, "missing kind"}},
		"empty kind":               {value: ":root-ca", wantErr: []string{"unknown kind"}},
		"too many slashes":         {value: "secret:a/b/c/d", wantErr: []string{"too many slashes"}},
		"empty name":               {value: "secret:", wantErr: []string{"bad name"}},
		"empty name with ns":       {value: "secret:ns//ca.crt", wantErr: []string{"bad name"}},
		"invalid name":             {value: "secret:Root_CA", wantErr: []string{"bad name"}},
		"invalid namespace":        {value: "secret:Bad_NS/root-ca/ca.crt", wantErr: []string{"bad namespace"}},
		"namespace with a dot":     {value: "secret:a.b/root-ca/ca.crt", wantErr: []string{"bad namespace"}},
		"invalid key":              {value: "secret:ns/root-ca/bad key", wantErr: []string{"bad key"}},
		"empty key":                {value: "secret:ns/root-ca/", wantErr: []string{"bad key"}},
		"one bad item fails all":   {value: "secret:ok, secret:Not_OK", wantErr: []string{"Not_OK"}},
		"invalid own namespace":    {namespace: "Bad_NS", value: "secret:root-ca", wantErr: []string{"bad namespace"}},
		"dash as own namespace":    {namespace: "-", value: "secret:root-ca", wantErr: []string{"bad namespace"}},
		"no own namespace":         {namespace: noNamespace, value: "secret:root-ca", wantErr: []string{`bad namespace ""`}},
		"explicit ns overrides ns": {namespace: "-", value: "secret:other/root-ca/ca.crt", want: []SourceRef{ref(SecretSource, "other", "root-ca", "ca.crt")}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			namespace := ns
			switch tc.namespace {
			case "":
			case noNamespace:
				namespace = ""
			default:
				namespace = tc.namespace
			}
			got, err := ParseSourceList(key, namespace, tc.value)
			if tc.wantErr != nil {
				e := testpki.RequireReason(t, err, badinput.InvalidAnnotation)
				for _, s := range tc.wantErr {
					if !strings.Contains(e.Message, s) {
						t.Errorf("message %q does not mention %q", e.Message, s)
					}
				}
				if got != nil {
					t.Errorf("on error got %v, want nil", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestParseSourceListOrderDoesNotMatter(t *testing.T) {
	a, err := ParseSourceList(TruststoreSources, "app", "secret:x, configmap:other/y/b.pem, secret:a/z")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseSourceList(TruststoreSources, "app", "secret:a/z,secret:x , configmap:other/y/b.pem,secret:app/x")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || len(a) != 3 {
		t.Errorf("permuted lists differ or were not de-duplicated:\n%v\n%v", a, b)
	}
}

func TestSourceRefString(t *testing.T) {
	tests := map[string]struct {
		ref  SourceRef
		want string
	}{
		"secret":    {SourceRef{Kind: SecretSource, Namespace: "ns", Name: "n", Key: "ca.crt"}, "secret:ns/n/ca.crt"},
		"configmap": {SourceRef{Kind: ConfigMapSource, Namespace: "ns", Name: "a.b", Key: "k"}, "configmap:ns/a.b/k"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.ref.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			// The string form is itself a valid, unambiguous source.
			back, err := ParseSourceList(TruststoreSources, "elsewhere", tc.ref.String())
			if err != nil || len(back) != 1 || back[0] != tc.ref {
				t.Errorf("String() does not parse back: %v, %v", back, err)
			}
		})
	}
}

func TestOutputKeys(t *testing.T) {
	tests := map[string]struct {
		spec  KeystoreSpec
		hasCA bool
		want  []string
	}{
		"nothing":                    {KeystoreSpec{}, true, nil},
		"jks":                        {KeystoreSpec{Formats: []Format{JKS}}, false, []string{"keystore.jks", "truststore.jks"}},
		"pkcs12":                     {KeystoreSpec{Formats: []Format{PKCS12}}, true, []string{"keystore.p12", "truststore.p12"}},
		"both formats":               {KeystoreSpec{Formats: []Format{JKS, PKCS12}}, false, []string{"keystore.jks", "keystore.p12", "truststore.jks", "truststore.p12"}},
		"cert-info without ca.crt":   {KeystoreSpec{CertInfo: true}, false, []string{"tls.crt.info"}},
		"cert-info with ca.crt":      {KeystoreSpec{CertInfo: true}, true, []string{"ca.crt.info", "tls.crt.info"}},
		"jks and cert-info with ca":  {KeystoreSpec{Formats: []Format{JKS}, CertInfo: true}, true, []string{"ca.crt.info", "keystore.jks", "tls.crt.info", "truststore.jks"}},
		"everything":                 {KeystoreSpec{Formats: []Format{JKS, PKCS12}, CertInfo: true}, true, []string{"ca.crt.info", "keystore.jks", "keystore.p12", "tls.crt.info", "truststore.jks", "truststore.p12"}},
		"everything but the ca.crt":  {KeystoreSpec{Formats: []Format{JKS, PKCS12}, CertInfo: true}, false, []string{"keystore.jks", "keystore.p12", "tls.crt.info", "truststore.jks", "truststore.p12"}},
		"hasCA alone writes nothing": {KeystoreSpec{Formats: nil}, true, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := tc.spec.OutputKeys(tc.hasCA)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for _, k := range got {
				if !slices.Contains(KeystoreOutputKeys, k) {
					t.Errorf("%q is not in KeystoreOutputKeys", k)
				}
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	tests := map[string]struct {
		spec KeystoreSpec
		want bool
	}{
		"defaults":             {defaults(), false},
		"a format":             {KeystoreSpec{Formats: []Format{PKCS12}}, true},
		"cert-info":            {KeystoreSpec{CertInfo: true}, true},
		"target alone":         {KeystoreSpec{Target: "out"}, false},
		"sources alone":        {KeystoreSpec{TruststoreSources: []SourceRef{{Kind: SecretSource, Namespace: "a", Name: "b", Key: "c"}}}, false},
		"password secret only": {KeystoreSpec{Password: Password{SecretName: "pw", SecretKey: "password"}}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.spec.Enabled(); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	src := SourceRef{Kind: ConfigMapSource, Namespace: "other", Name: "bundle", Key: "ca.crt"}
	tests := map[string]struct {
		spec KeystoreSpec
		want []SourceRef
	}{
		"none": {KeystoreSpec{}, nil},
		"literal password is no reference": {
			KeystoreSpec{Password: Password{Literal: "x", HasLiteral: true}}, nil,
		},
		"password secret in the given namespace": {
			KeystoreSpec{Password: Password{SecretName: "pw", SecretKey: "password"}},
			[]SourceRef{{Kind: SecretSource, Namespace: "app", Name: "pw", Key: "password"}},
		},
		"password secret first, then sources": {
			KeystoreSpec{Password: Password{SecretName: "pw", SecretKey: "k"}, TruststoreSources: []SourceRef{src}},
			[]SourceRef{{Kind: SecretSource, Namespace: "app", Name: "pw", Key: "k"}, src},
		},
		"sources only": {KeystoreSpec{TruststoreSources: []SourceRef{src}}, []SourceRef{src}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.spec.References("app"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// A long bad value gives a short message: the API server refuses Events
// whose note exceeds 1 KiB, and the Warning must reach the user.
func TestLongBadValuesGiveShortMessages(t *testing.T) {
	long := strings.Repeat("x", 2000)
	for _, ann := range []map[string]string{
		{Keystores: long},
		{Keystores: "jks", PKCS12Profile: long},
		{Keystores: "jks", KeystoreAlias: long},
		{Keystores: "jks", KeystorePasswordSecret: long + "/" + long},
		{Keystores: "jks", TruststoreSources: "secret:" + long + "/" + long + "/" + long},
		{Keystores: "jks", TruststoreSources: long + ":name"},
		{Keystores: "jks", KeystoresTarget: long},
		{CertInfo: long},
	} {
		_, err := ParseKeystoreSpec("ns", ann)
		if err == nil {
			t.Fatalf("%v: no error", ann)
		}
		if n := len(err.Error()); n > 512 {
			t.Errorf("message of %d bytes for a 2000-character value: %.120s...", n, err.Error())
		}
	}
}
