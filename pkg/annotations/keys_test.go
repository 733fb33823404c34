package annotations

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestHasAny(t *testing.T) {
	tests := map[string]struct {
		ann  map[string]string
		want bool
	}{
		"nil":                         {nil, false},
		"empty":                       {map[string]string{}, false},
		"unrelated":                   {map[string]string{"app": "x", "kubectl.kubernetes.io/last-applied-configuration": "{}"}, false},
		"keystores":                   {map[string]string{Keystores: "jks"}, true},
		"bookkeeping only":            {map[string]string{ManagedKeys: "keystore.jks"}, true},
		"unknown certinel key":        {map[string]string{"certinel.io/whatever": ""}, true},
		"the bare prefix":             {map[string]string{"certinel.io/": "x"}, false},
		"prefix without slash":        {map[string]string{"certinel.io": "x"}, false},
		"prefix in the middle":        {map[string]string{"example.com/certinel.io/keystores": "jks"}, false},
		"sub-domain of the prefix":    {map[string]string{"x.certinel.io/keystores": "jks"}, false},
		"cert-utils key":              {map[string]string{"cert-utils-operator.redhat-cop.io/generate-java-keystores": "true"}, false},
		"case matters":                {map[string]string{"Certinel.io/keystores": "jks"}, false},
		"one certinel key among many": {map[string]string{"a": "b", CertInfo: "true", "c": "d"}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := HasAny(tc.ann); got != tc.want {
				t.Errorf("HasAny(%v) = %v, want %v", tc.ann, got, tc.want)
			}
		})
	}
}

func TestKeysHaveThePrefix(t *testing.T) {
	keys := []string{
		Keystores, KeystorePasswordSecret, KeystorePassword, KeystoreAlias, PKCS12Profile,
		TruststoreSources, KeystoresTarget, CertInfo,
		InjectCAFrom, InjectCAFromConfigMap, InjectCAKey,
		CertsFromSecret, DestinationCAFromSecret, InjectCA, AllowExportTo,
		ReloadSecrets, ReloadConfigMaps, Reload, ReloadIgnore, ConfigHash,
		Monitor, ExpiryWarning, ManagedKeys, KeystoresFingerprint, ShareCertificatesWith,
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, Prefix) || len(k) == len(Prefix) {
			t.Errorf("%q does not start with %q", k, Prefix)
		}
		if seen[k] {
			t.Errorf("%q is defined twice", k)
		}
		seen[k] = true
		if !HasAny(map[string]string{k: ""}) {
			t.Errorf("HasAny does not recognise %q", k)
		}
	}
}

func TestKeystoreOutputKeys(t *testing.T) {
	if !slices.IsSorted(KeystoreOutputKeys) {
		t.Errorf("KeystoreOutputKeys is not sorted: %v", KeystoreOutputKeys)
	}
	// Every key the feature may write, and nothing else.
	all := KeystoreSpec{Formats: []Format{JKS, PKCS12}, CertInfo: true}.OutputKeys(true)
	if !reflect.DeepEqual(all, KeystoreOutputKeys) {
		t.Errorf("OutputKeys of everything = %v, KeystoreOutputKeys = %v", all, KeystoreOutputKeys)
	}
	for _, k := range KeystoreOutputKeys {
		if k == TLSCertKey || k == TLSKeyKey || k == CACertKey {
			t.Errorf("%q is an input of the feature, never an output", k)
		}
	}
}

func TestProfilesDefaultFirst(t *testing.T) {
	if len(Profiles) == 0 || Profiles[0] != Modern2023 {
		t.Fatalf("Profiles = %v, want modern2023 first", Profiles)
	}
	want := []Profile{Modern2023, Modern2026, LegacyRC2, LegacyDES}
	if !reflect.DeepEqual(Profiles, want) {
		t.Errorf("Profiles = %v, want %v", Profiles, want)
	}
	for _, p := range Profiles {
		spec, err := ParseKeystoreSpec("ns", map[string]string{PKCS12Profile: string(p)})
		if err != nil || spec.Profile != p {
			t.Errorf("profile %q does not parse to itself: %v, %v", p, spec.Profile, err)
		}
	}
}
