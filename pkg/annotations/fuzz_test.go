package annotations

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/certinel/certinel/pkg/badinput"
)

// keystoreAnnotationKeys are the annotations FuzzParseKeystoreSpec sets, in
// the order of its string arguments; bit i of its mask sets key i.
var keystoreAnnotationKeys = []string{
	Keystores, KeystorePasswordSecret, KeystorePassword, KeystoreAlias,
	PKCS12Profile, TruststoreSources, KeystoresTarget, CertInfo,
}

func FuzzParseKeystoreSpec(f *testing.F) {
	seeds := []struct {
		mask   uint8
		values [8]string
	}{
		{0x00, [8]string{}},
		{0x01, [8]string{"jks"}},
		{0x01, [8]string{"JKS, pkcs12"}},
		{0x01, [8]string{"jks,jks,pkcs12,PKCS12"}},
		{0x01, [8]string{"p12"}},
		{0x06, [8]string{"jks", "pw", "literal"}},
		{0x04, [8]string{"jks", "", ""}},
		{0x04, [8]string{"jks", "", "  spaced  "}},
		{0x02, [8]string{"jks", "store-password/jks.pass"}},
		{0x02, [8]string{"jks", "Bad_Name"}},
		{0x02, [8]string{"jks", "a/b/c"}},
		{0x08, [8]string{"", "", "", "My Alias"}},
		{0x08, [8]string{"", "", "", "a\tb"}},
		{0x08, [8]string{"", "", "", strings.Repeat("Ⱥ", 127)}},
		{0x10, [8]string{"", "", "", "", "Legacy-DES"}},
		{0x10, [8]string{"", "", "", "", "modern2027"}},
		{0x20, [8]string{"", "", "", "", "", "secret:a, configmap:ns/b/c.pem, secret:x/y/z/w"}},
		{0x40, [8]string{"", "", "", "", "", "", "out.keystores"}},
		{0x40, [8]string{"", "", "", "", "", "", "Bad_Target"}},
		{0x80, [8]string{"", "", "", "", "", "", "", "TRUE"}},
		{0x80, [8]string{"", "", "", "", "", "", "", "yes"}},
		{0xff, [8]string{"pkcs12,jks", "pw/key", "", "Tomcat", "legacy-rc2", "secret:ca", "out", "true"}},
		{0xfd, [8]string{"pkcs12,jks", "", "pw", "Tomcat", "modern2026", "configmap:other/bundle/x", "out", "false"}},
	}
	for _, s := range seeds {
		v := s.values
		f.Add(s.mask, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
	}
	f.Fuzz(func(t *testing.T, mask uint8, keystores, passwordSecret, password, alias, profile, sources, target, certInfo string) {
		values := []string{keystores, passwordSecret, password, alias, profile, sources, target, certInfo}
		ann := map[string]string{}
		for i, k := range keystoreAnnotationKeys {
			if mask&(1<<i) != 0 {
				ann[k] = values[i]
			}
		}
		const ns = "fuzz"
		spec, err := ParseKeystoreSpec(ns, ann)

		_, hasPasswordSecret := ann[KeystorePasswordSecret]
		_, hasPassword := ann[KeystorePassword]
		badFormat := slices.ContainsFunc(splitList(ann[Keystores]), func(item string) bool {
			f := Format(strings.ToLower(item))
			return f != JKS && f != PKCS12
		})
		if err != nil {
			e, ok := badinput.As(err)
			if !ok {
				t.Fatalf("error %T %q is not a *badinput.Error", err, err)
			}
			switch e.Reason {
			case badinput.InvalidAnnotation, badinput.UnknownKeystoreFormat, badinput.UnknownPKCS12Profile, badinput.InvalidPassword:
			default:
				t.Fatalf("unexpected reason %q (%q)", e.Reason, e.Message)
			}
			if e.Message == "" {
				t.Fatal("empty error message")
			}
			if badFormat && e.Reason != badinput.UnknownKeystoreFormat {
				t.Fatalf("an unknown format gave reason %s, want %s", e.Reason, badinput.UnknownKeystoreFormat)
			}
			if !reflect.DeepEqual(spec, KeystoreSpec{}) {
				t.Fatalf("error with a non-zero spec %+v", spec)
			}
			return
		}
		if badFormat {
			t.Fatalf("keystores %q accepted: %v", ann[Keystores], spec.Formats)
		}
		if hasPassword && hasPasswordSecret {
			t.Fatal("both password annotations accepted")
		}

		// Formats: known, sorted, unique.
		if !slices.IsSorted(spec.Formats) || len(slices.Compact(slices.Clone(spec.Formats))) != len(spec.Formats) {
			t.Fatalf("formats not sorted and unique: %v", spec.Formats)
		}
		for _, f := range spec.Formats {
			if f != JKS && f != PKCS12 {
				t.Fatalf("unknown format %q accepted", f)
			}
		}
		if !slices.Contains(Profiles, spec.Profile) {
			t.Fatalf("unknown profile %q accepted", spec.Profile)
		}

		// Password: exactly one source, valid.
		p := spec.Password
		switch {
		case hasPassword:
			if !p.HasLiteral || p.Literal != strings.TrimSpace(password) || p.Literal == "" || p.SecretName != "" {
				t.Fatalf("literal password %q parsed as %+v", password, p)
			}
		case hasPasswordSecret:
			if p.HasLiteral || p.Literal != "" ||
				len(validation.IsDNS1123Subdomain(p.SecretName)) > 0 || len(validation.IsConfigMapKey(p.SecretKey)) > 0 {
				t.Fatalf("password secret %q parsed as %+v", passwordSecret, p)
			}
		default:
			if p != (Password{}) {
				t.Fatalf("no password annotation, got %+v", p)
			}
		}

		// Alias: non-empty, lower case, printable, at most 255 characters.
		if spec.Alias == "" || spec.Alias != strings.ToLower(spec.Alias) ||
			utf8.RuneCountInString(spec.Alias) > 255 ||
			strings.IndexFunc(spec.Alias, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			t.Fatalf("bad alias %q", spec.Alias)
		}
		if _, ok := ann[KeystoreAlias]; !ok && spec.Alias != DefaultAlias {
			t.Fatalf("alias %q without the annotation", spec.Alias)
		}

		checkSources(t, spec.TruststoreSources)
		if spec.Target != "" && len(validation.IsDNS1123Subdomain(spec.Target)) > 0 {
			t.Fatalf("invalid target %q accepted", spec.Target)
		}

		// The spec written back as annotations parses to itself.
		back := map[string]string{PKCS12Profile: string(spec.Profile), KeystoresTarget: spec.Target}
		formats := make([]string, len(spec.Formats))
		for i, f := range spec.Formats {
			formats[i] = string(f)
		}
		back[Keystores] = strings.Join(formats, ",")
		if p.HasLiteral {
			back[KeystorePassword] = p.Literal
		} else if p.SecretName != "" {
			back[KeystorePasswordSecret] = p.SecretName + "/" + p.SecretKey
		}
		if len(spec.Alias) <= 255 { // lower-casing may lengthen the UTF-8 form
			back[KeystoreAlias] = spec.Alias
		}
		srcs := make([]string, len(spec.TruststoreSources))
		for i, s := range spec.TruststoreSources {
			srcs[i] = s.String()
		}
		back[TruststoreSources] = strings.Join(srcs, ",")
		if spec.CertInfo {
			back[CertInfo] = "true"
		}
		again, err := ParseKeystoreSpec(ns, back)
		if err != nil {
			t.Fatalf("canonical form %v does not parse: %v", back, err)
		}
		if len(spec.Alias) > 255 {
			again.Alias = spec.Alias
		}
		if !reflect.DeepEqual(again, spec) {
			t.Fatalf("canonical form parses differently:\n%+v\n%+v", spec, again)
		}
	})
}

func FuzzParseSourceList(f *testing.F) {
	for _, s := range []struct{ ns, v string }{
		{"app", ""},
		{"app", "secret:name"},
		{"app", "secret:name/ca.crt"},
		{"app", "secret:ns/name"},
		{"app", "secret:ns/name/key"},
		{"app", "configmap:kube-system/kube-root-ca.crt"},
		{"app", "configmap:ns/bundle/bundle.pem, secret:a, SECRET:app/a/ca.crt"},
		{"app", "vault:name"},
		{"app", "name"},
		{"app", "secret:a/b/c/d"},
		{"app", "secret:Bad_Name"},
		{"app", "secret:ns//key"},
		{"app", " , ,secret: x , "},
		{"", "secret:name"},
		{"Bad_NS", "configmap:other/name/key"},
	} {
		f.Add(s.ns, s.v)
	}
	const key = "example.io/sources"
	f.Fuzz(func(t *testing.T, namespace, v string) {
		refs, err := ParseSourceList(key, namespace, v)
		if err != nil {
			e, ok := badinput.As(err)
			if !ok || e.Reason != badinput.InvalidAnnotation || !strings.Contains(e.Message, key) {
				t.Fatalf("error %T %q: want an InvalidAnnotation *badinput.Error naming %s", err, err, key)
			}
			if refs != nil {
				t.Fatalf("error with refs %v", refs)
			}
			return
		}
		if len(refs) > len(splitList(v)) {
			t.Fatalf("%d refs from %d items", len(refs), len(splitList(v)))
		}
		checkSources(t, refs)
		if len(refs) == 0 {
			return
		}
		// The string forms are unambiguous: they parse back to the same
		// list whatever the namespace.
		strs := make([]string, len(refs))
		for i, r := range refs {
			strs[i] = r.String()
		}
		again, err := ParseSourceList(key, "elsewhere", strings.Join(strs, ","))
		if err != nil || !reflect.DeepEqual(again, refs) {
			t.Fatalf("%q parses back as %v, %v; want %v", strs, again, err, refs)
		}
	})
}

// checkSources asserts that refs are valid, sorted and unique.
func checkSources(t *testing.T, refs []SourceRef) {
	t.Helper()
	for i, r := range refs {
		if r.Kind != SecretSource && r.Kind != ConfigMapSource {
			t.Fatalf("kind %q accepted", r.Kind)
		}
		if len(validation.IsDNS1123Label(r.Namespace)) > 0 || len(validation.IsDNS1123Subdomain(r.Name)) > 0 ||
			len(validation.IsConfigMapKey(r.Key)) > 0 {
			t.Fatalf("invalid ref accepted: %+v", r)
		}
		if i > 0 && refs[i-1].String() >= r.String() {
			t.Fatalf("refs not sorted and unique: %v", refs)
		}
	}
}
