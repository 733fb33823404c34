package annotations

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certinel/certinel/pkg/badinput"
)

func TestParseCompat(t *testing.T) {
	tests := map[string]struct {
		in      []string
		want    Compat
		wantErr bool
	}{
		"off":          {},
		"empty value":  {in: []string{""}},
		"cert-utils":   {in: []string{"cert-utils"}, want: Compat{CertUtils: true}},
		"both, spaced": {in: []string{" cert-utils , Reloader "}, want: Compat{CertUtils: true, Reloader: true}},
		"repeated":     {in: []string{"reloader", "cert-utils"}, want: Compat{CertUtils: true, Reloader: true}},
		"unknown":      {in: []string{"cert-utils,kyverno"}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseCompat(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ParseCompat(%q) = %+v, %v", tc.in, got, err)
			}
		})
	}
}

func TestTranslate(t *testing.T) {
	both := Compat{CertUtils: true, Reloader: true}
	tests := map[string]struct {
		compat  Compat
		kind    string
		in      map[string]string
		want    map[string]string // keys added or changed; every other input key stays
		ignored []string
		reasons []string // reasons of the Warnings, sorted
	}{
		"compat off leaves cert-utils keys alone": {
			kind: "Secret", in: map[string]string{CertUtilsKeystores: "true"},
		},
		"reloader only leaves cert-utils keys alone": {
			compat: Compat{Reloader: true}, kind: "Secret", in: map[string]string{CertUtilsKeystores: "true"},
		},
		"keystores with cert-utils defaults": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsKeystores: "true"},
			want: map[string]string{Keystores: "jks", KeystoreAlias: "alias", CompatDefaults: "cert-utils", CompatAdopt: "keystore.jks,truststore.jks"},
		},
		"keystores with a password and cert-info": {
			compat: both, kind: "Secret",
			in: map[string]string{CertUtilsKeystores: "TRUE", CertUtilsPassword: " s3cret ", CertUtilsCertInfo: "true"},
			want: map[string]string{Keystores: "jks", KeystoreAlias: "alias", CompatDefaults: "cert-utils",
				KeystorePassword: "s3cret", CertInfo: "true", CompatAdopt: "keystore.jks,truststore.jks,tls.crt.info,ca.crt.info"},
		},
		"empty password is cert-utils' default": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsKeystores: "true", CertUtilsPassword: ""},
			want: map[string]string{Keystores: "jks", KeystoreAlias: "alias", CompatDefaults: "cert-utils", CompatAdopt: "keystore.jks,truststore.jks"},
		},
		"keystores false": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsKeystores: "false", CertUtilsPassword: "pw"},
		},
		"password alone asks for nothing": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsPassword: "pw"},
		},
		"certinel keystores win, with certinel defaults": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsKeystores: "true", Keystores: "pkcs12"},
			ignored: []string{CertUtilsKeystores}, reasons: []string{ReasonCompatKeyIgnored},
		},
		"moved key by key: certinel keystores keep the cert-utils password": {
			compat: both, kind: "Secret", in: map[string]string{Keystores: "jks", KeystoreAlias: "alias", CertUtilsPassword: "pw"},
			want: map[string]string{KeystorePassword: "pw"},
		},
		"certinel password secret wins": {
			compat: both, kind: "Secret",
			in:      map[string]string{CertUtilsKeystores: "true", CertUtilsPassword: "pw", KeystorePasswordSecret: "store-pw"},
			want:    map[string]string{Keystores: "jks", KeystoreAlias: "alias", CompatDefaults: "cert-utils", CompatAdopt: "keystore.jks,truststore.jks"},
			ignored: []string{CertUtilsPassword}, reasons: []string{ReasonCompatKeyIgnored},
		},
		"certinel alias is kept": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsKeystores: "true", KeystoreAlias: "app"},
			want: map[string]string{Keystores: "jks", CompatDefaults: "cert-utils", CompatAdopt: "keystore.jks,truststore.jks"},
		},
		"malformed flag": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsKeystores: "yes", CertUtilsCertInfo: "1"},
			reasons: []string{badinput.InvalidAnnotation, badinput.InvalidAnnotation},
		},
		"cert-info alone": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsCertInfo: "true"},
			want: map[string]string{CertInfo: "true", CompatAdopt: "tls.crt.info,ca.crt.info"},
		},
		"cert-info overridden": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsCertInfo: "true", CertInfo: "false"},
			ignored: []string{CertUtilsCertInfo}, reasons: []string{ReasonCompatKeyIgnored},
		},
		"expiry alert with cert-utils' default threshold": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsExpiryAlert: "true"},
			want: map[string]string{ExpiryWarning: "2160h"},
		},
		"expiry alert with a threshold": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsExpiryAlert: "true", CertUtilsExpiryThreshold: "720h"},
			want: map[string]string{ExpiryWarning: "720h"},
		},
		"expiry threshold without the alert": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsExpiryThreshold: "720h"},
		},
		"expiry threshold in days is not a Go duration": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsExpiryAlert: "true", CertUtilsExpiryThreshold: "30d"},
			reasons: []string{badinput.InvalidAnnotation},
		},
		"certinel expiry-warning wins": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsExpiryAlert: "true", CertUtilsExpiryThreshold: "720h", ExpiryWarning: "10d"},
			ignored: []string{CertUtilsExpiryThreshold}, reasons: []string{ReasonCompatKeyIgnored},
		},
		"inject into a Secret": {
			compat: both, kind: "Secret", in: map[string]string{CertUtilsInjectCAFrom: " certs/ca "},
			want: map[string]string{InjectCAFrom: "certs/ca", CompatAdopt: "ca.crt"},
		},
		"inject into a webhook": {
			compat: both, kind: "ValidatingWebhookConfiguration", in: map[string]string{CertUtilsInjectCAFrom: "certs/ca"},
			want: map[string]string{InjectCAFrom: "certs/ca", CompatAdopt: "ca.crt"},
		},
		"inject needs a namespace": {
			compat: both, kind: "ConfigMap", in: map[string]string{CertUtilsInjectCAFrom: "ca"},
			reasons: []string{badinput.InvalidAnnotation},
		},
		"inject with a bad name": {
			compat: both, kind: "APIService", in: map[string]string{CertUtilsInjectCAFrom: "certs/Bad_Name"},
			reasons: []string{badinput.InvalidAnnotation},
		},
		"inject overridden by a ConfigMap source": {
			compat: both, kind: "ConfigMap", in: map[string]string{CertUtilsInjectCAFrom: "certs/ca", InjectCAFromConfigMap: "certs/bundle"},
			ignored: []string{CertUtilsInjectCAFrom}, reasons: []string{ReasonCompatKeyIgnored},
		},
		"inject is not for Routes": {
			compat: both, kind: "Route", in: map[string]string{CertUtilsInjectCAFrom: "certs/ca"},
		},
		"ConfigMap truststore with defaults": {
			compat: both, kind: "ConfigMap", in: map[string]string{CertUtilsTruststore: "true"},
			want: map[string]string{Truststores: "jks", TruststoreKey: "ca-bundle.crt", CompatDefaults: "cert-utils", CompatAdopt: "truststore.jks"},
		},
		"ConfigMap truststore with key and password": {
			compat: both, kind: "ConfigMap", in: map[string]string{CertUtilsTruststore: "true", CertUtilsSourceKey: "service-ca.crt", CertUtilsPassword: "pw"},
			want: map[string]string{Truststores: "jks", TruststoreKey: "service-ca.crt", CompatDefaults: "cert-utils", KeystorePassword: "pw", CompatAdopt: "truststore.jks"},
		},
		"ConfigMap truststore with a bad key": {
			compat: both, kind: "ConfigMap", in: map[string]string{CertUtilsTruststore: "true", CertUtilsSourceKey: "a b"},
			want:    map[string]string{Truststores: "jks", CompatDefaults: "cert-utils", CompatAdopt: "truststore.jks"},
			reasons: []string{badinput.InvalidAnnotation},
		},
		"certinel truststore key wins": {
			compat: both, kind: "ConfigMap", in: map[string]string{CertUtilsTruststore: "true", CertUtilsSourceKey: "x.crt", TruststoreKey: "ca.crt"},
			want:    map[string]string{Truststores: "jks", CompatDefaults: "cert-utils", CompatAdopt: "truststore.jks"},
			ignored: []string{CertUtilsSourceKey}, reasons: []string{ReasonCompatKeyIgnored},
		},
		"keystores on a ConfigMap mean nothing": {
			compat: both, kind: "ConfigMap", in: map[string]string{CertUtilsKeystores: "true"},
		},
		"Route without inject-CA": {
			compat: both, kind: "Route", in: map[string]string{CertUtilsCertsFromSecret: "web-tls", CertUtilsDestinationCAFrom: "backend-tls"},
			want: map[string]string{CertsFromSecret: "web-tls", DestinationCAFromSecret: "backend-tls"},
		},
		"Route with inject-CA": {
			compat: both, kind: "Route", in: map[string]string{CertUtilsCertsFromSecret: "web-tls", CertUtilsInjectCA: "true"},
			want: map[string]string{CertsFromSecret: "web-tls", InjectCA: "true"},
		},
		"Route with inject-CA false": {
			compat: both, kind: "Route", in: map[string]string{CertUtilsCertsFromSecret: "web-tls", CertUtilsInjectCA: "false"},
			want: map[string]string{CertsFromSecret: "web-tls", InjectCA: "false"},
		},
		"Route destination CA alone": {
			compat: both, kind: "Route", in: map[string]string{CertUtilsDestinationCAFrom: "backend-tls"},
			want: map[string]string{DestinationCAFromSecret: "backend-tls"},
		},
		"Route with certinel certs": {
			compat: both, kind: "Route", in: map[string]string{CertUtilsCertsFromSecret: "old", CertsFromSecret: "new"},
			ignored: []string{CertUtilsCertsFromSecret}, reasons: []string{ReasonCompatKeyIgnored},
		},
		"Route with a bad name": {
			compat: both, kind: "Route", in: map[string]string{CertUtilsCertsFromSecret: "other/web-tls"},
			reasons: []string{badinput.InvalidAnnotation},
		},
		"reloader lists and auto": {
			compat: both, kind: "Deployment",
			in:   map[string]string{ReloaderSecrets: "a, b,,", ReloaderConfigMaps: "conf", ReloaderAuto: "true"},
			want: map[string]string{ReloadSecrets: "a,b", ReloadConfigMaps: "conf", Reload: "auto"},
		},
		"reloader auto false": {
			compat: both, kind: "StatefulSet", in: map[string]string{ReloaderAuto: "false"},
		},
		"reloader regular expression": {
			compat: both, kind: "DaemonSet", in: map[string]string{ReloaderSecrets: "app-.*"},
			reasons: []string{badinput.InvalidAnnotation},
		},
		"reloader bad auto": {
			compat: both, kind: "Deployment", in: map[string]string{ReloaderAuto: "yes"},
			reasons: []string{badinput.InvalidAnnotation},
		},
		"reloader overridden": {
			compat: both, kind: "Deployment", in: map[string]string{ReloaderSecrets: "a", ReloadSecrets: "b", ReloaderAuto: "true", Reload: "auto"},
			ignored: []string{ReloaderAuto, ReloaderSecrets}, reasons: []string{ReasonCompatKeyIgnored, ReasonCompatKeyIgnored},
		},
		"reloader keys on a Secret mean nothing": {
			compat: both, kind: "Secret", in: map[string]string{ReloaderSecrets: "a"},
		},
		"cert-utils off leaves reloader keys": {
			compat: Compat{CertUtils: true}, kind: "Deployment", in: map[string]string{ReloaderSecrets: "a"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := maps.Clone(tc.in)
			got := tc.compat.Translate(tc.kind, tc.in)
			if !maps.Equal(in, tc.in) {
				t.Fatalf("Translate changed its input: %v", tc.in)
			}
			again := tc.compat.Translate(tc.kind, maps.Clone(got.Annotations))
			if !maps.Equal(again.Annotations, got.Annotations) || !slices.Equal(again.Warnings, got.Warnings) {
				t.Errorf("not idempotent: translating again gives %v, %+v", again.Annotations, again.Warnings)
			}
			want := maps.Clone(tc.in)
			maps.Copy(want, tc.want)
			warnings := got.Annotations[CompatWarnings]
			delete(got.Annotations, CompatWarnings)
			delete(got.Annotations, CompatAdded)
			if !maps.Equal(got.Annotations, want) {
				t.Errorf("annotations = %v\nwant %v", got.Annotations, want)
			}
			if !slices.Equal(got.Ignored, tc.ignored) {
				t.Errorf("ignored = %q, want %q", got.Ignored, tc.ignored)
			}
			var reasons []string
			for _, w := range got.Warnings {
				reasons = append(reasons, w.Reason)
			}
			slices.Sort(reasons)
			if !slices.Equal(reasons, tc.reasons) {
				t.Errorf("warnings = %+v, want reasons %q", got.Warnings, tc.reasons)
			}
			if dec := DecodeCompatWarnings(warnings); len(got.Warnings) > 0 && !slices.Equal(dec, got.Warnings) {
				t.Errorf("encoded warnings decode to %+v, want %+v", dec, got.Warnings)
			}
			for _, w := range got.Warnings {
				if w.Reason == ReasonCompatKeyIgnored && !strings.Contains(w.Message, Prefix) {
					t.Errorf("message %q does not name the certinel key that wins", w.Message)
				}
			}
		})
	}
}

func TestPasswordKey(t *testing.T) {
	c := Compat{CertUtils: true}
	if got := PasswordKey(c.Translate("Secret", map[string]string{CertUtilsKeystores: "true", CertUtilsPassword: "pw"}).Annotations); got != CertUtilsPassword {
		t.Errorf("PasswordKey = %s, want %s", got, CertUtilsPassword)
	}
	if got := PasswordKey(map[string]string{Keystores: "jks", KeystorePassword: "pw"}); got != KeystorePassword {
		t.Errorf("PasswordKey = %s, want %s", got, KeystorePassword)
	}
}

func TestTranslateDropsCopiedInternalKeys(t *testing.T) {
	in := map[string]string{CompatDefaults: "cert-utils", CompatWarnings: "CompatKeyIgnored forged", CompatAdopt: "keystore.jks", Keystores: "jks"}
	got := Compat{}.Translate("Secret", in)
	if want := map[string]string{Keystores: "jks"}; !maps.Equal(got.Annotations, want) {
		t.Fatalf("annotations = %v, want %v", got.Annotations, want)
	}
	spec, err := ParseKeystoreSpec("ns", got.Annotations)
	if err != nil || spec.Password.Or() != DefaultPassword || spec.TrustAliases != AliasStable {
		t.Fatalf("spec = %+v, %v: a copied marker must not change the defaults", spec, err)
	}
}

func TestTranslateUnchangedIsSameMap(t *testing.T) {
	in := map[string]string{"team": "a", Keystores: "jks"}
	got := Compat{CertUtils: true, Reloader: true}.Translate("Secret", in)
	got.Annotations["probe"] = "x"
	if in["probe"] != "x" {
		t.Fatal("nothing to translate, yet Translate copied the map")
	}
}

func TestCompatDefaultsInSpecs(t *testing.T) {
	c := Compat{CertUtils: true}
	ks, err := ParseKeystoreSpec("ns", c.Translate("Secret", map[string]string{CertUtilsKeystores: "true"}).Annotations)
	if err != nil {
		t.Fatal(err)
	}
	if ks.Password.Or() != "changeme" || ks.Alias != "alias" || ks.TrustAliases != AliasIndexed || !slices.Equal(ks.Formats, []Format{JKS}) {
		t.Fatalf("keystore spec = %+v", ks)
	}
	ts, asks, err := ParseTruststoreSpec(c.Translate("ConfigMap", map[string]string{CertUtilsTruststore: "true"}).Annotations)
	if err != nil || !asks {
		t.Fatal(asks, err)
	}
	if ts.Password.Or() != "changeme" || ts.Key != "ca-bundle.crt" || ts.TrustAliases != AliasIndexed {
		t.Fatalf("truststore spec = %+v", ts)
	}
	es, err := ParseExpirySpec(c.Translate("Secret", map[string]string{CertUtilsExpiryAlert: "true"}).Annotations, DefaultExpiryWarning)
	if err != nil || !es.Monitored || es.Warning != 90*24*time.Hour {
		t.Fatalf("expiry spec = %+v, %v", es, err)
	}
	rs, asks, err := ParseRouteSpec(c.Translate("Route", map[string]string{CertUtilsCertsFromSecret: "web"}).Annotations)
	if err != nil || !asks || rs != (RouteSpec{CertsFrom: "web", InjectCA: true}) {
		t.Fatalf("route spec = %+v, %t, %v", rs, asks, err)
	}
	plain, _ := ParseKeystoreSpec("ns", map[string]string{Keystores: "jks"})
	if plain.Password.Or() != DefaultPassword || plain.TrustAliases != AliasStable || plain.Alias != DefaultAlias {
		t.Fatalf("certinel defaults changed: %+v", plain)
	}
}

func TestWorkloadReloaderAnnotations(t *testing.T) {
	own := map[string]string{ReloaderAuto: "true"}
	if got := WorkloadReloaderAnnotations(own, map[string]string{ReloaderSecrets: "a"}); !maps.Equal(got, own) {
		t.Errorf("a workload's own Reloader keys win: got %v", got)
	}
	got := WorkloadReloaderAnnotations(map[string]string{"x": "y"}, map[string]string{ReloaderSecrets: "a", "other": "z"})
	if want := map[string]string{"x": "y", ReloaderSecrets: "a"}; !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	none := map[string]string{"x": "y"}
	if got := WorkloadReloaderAnnotations(none, nil); !maps.Equal(got, none) {
		t.Errorf("got %v", got)
	}
}

// FuzzTranslate: any compat annotations translate without a panic, never
// change the input, and give annotations every certinel parser accepts or
// rejects with a bad-input error (never anything else).
func FuzzTranslate(f *testing.F) {
	f.Add("Secret", "true", "pw", "certs/ca", "a,b", "true")
	f.Add("ConfigMap", "TRUE", "", "ca", "app-.*", "yes")
	f.Add("Route", "web", "backend", "false", "", "")
	f.Add("Deployment", "a, b", "conf", "true", "", "")
	f.Fuzz(func(t *testing.T, kind, v1, v2, v3, v4, v5 string) {
		in := map[string]string{
			CertUtilsKeystores: v1, CertUtilsPassword: v2, CertUtilsInjectCAFrom: v3, CertUtilsCertInfo: v5,
			CertUtilsTruststore: v1, CertUtilsSourceKey: v4,
			CertUtilsCertsFromSecret: v1, CertUtilsDestinationCAFrom: v2, CertUtilsInjectCA: v3,
			ReloaderSecrets: v4, ReloaderConfigMaps: v1, ReloaderAuto: v5,
			CertUtilsExpiryAlert: v5, CertUtilsExpiryThreshold: v4,
		}
		before := maps.Clone(in)
		c := Compat{CertUtils: true, Reloader: true}
		got := c.TranslateObject(kind, in, map[string]string{ReloaderAuto: v2})
		if !maps.Equal(before, in) {
			t.Fatal("input changed")
		}
		if again := c.TranslateObject(kind, maps.Clone(got.Annotations), map[string]string{ReloaderAuto: v2}); !maps.Equal(again.Annotations, got.Annotations) {
			t.Fatalf("not idempotent:\n%v\n%v", got.Annotations, again.Annotations)
		}
		for k := range got.Annotations {
			if _, ok := in[k]; !ok && !strings.HasPrefix(k, Prefix) && !slices.Contains(compatInternal, k) {
				t.Fatalf("unexpected key %q", k)
			}
		}
		check := func(err error) {
			if _, ok := badinput.As(err); err != nil && !ok {
				t.Fatalf("not a bad-input error: %v", err)
			}
		}
		_, err := ParseKeystoreSpec("ns", got.Annotations)
		check(err)
		_, _, err = ParseTruststoreSpec(got.Annotations)
		check(err)
		_, _, err = ParseInjectSpec("ns", got.Annotations)
		check(err)
		_, _, err = ParseRouteSpec(got.Annotations)
		check(err)
		if spec, err := ParseExpirySpec(got.Annotations, DefaultExpiryWarning); err == nil && got.Annotations[ExpiryWarning] != "" && spec.Warning <= 0 {
			t.Fatalf("expiry-warning %q accepted as %v", got.Annotations[ExpiryWarning], spec.Warning)
		}
		if len(got.Warnings) > 0 && len(DecodeCompatWarnings(got.Annotations[CompatWarnings])) != len(got.Warnings) {
			t.Fatal("warnings do not round-trip")
		}
	})
}

func TestTranslateObjectPodTemplateIsIdempotent(t *testing.T) {
	c := Compat{Reloader: true}
	tmpl := map[string]string{ReloaderSecrets: "app-tls"}
	got := c.TranslateObject("Deployment", map[string]string{"team": "a"}, tmpl)
	if got.Annotations[ReloadSecrets] != "app-tls" {
		t.Fatalf("annotations = %v", got.Annotations)
	}
	again := c.TranslateObject("Deployment", maps.Clone(got.Annotations), tmpl)
	if !maps.Equal(again.Annotations, got.Annotations) {
		t.Fatalf("not idempotent:\n%v\n%v", got.Annotations, again.Annotations)
	}
	// the template's key gone, the translation goes too
	gone := c.TranslateObject("Deployment", maps.Clone(got.Annotations), nil)
	if want := map[string]string{"team": "a"}; !maps.Equal(gone.Annotations, want) {
		t.Fatalf("annotations = %v, want %v", gone.Annotations, want)
	}
}
