package controllers

import (
	"bytes"
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/ownership"
)

const srcName = "app-tls"

var jksKeys = []string{annotations.KeystoreJKSKey, annotations.TruststoreJKSKey}

// An annotated Secret gets its stores, the bookkeeping annotations and one
// Normal Event, in one patch; the keys it had stay as they were.
func TestReconcileWritesStores(t *testing.T) {
	tls := newTLS(t, "app")
	cases := map[string]struct {
		ann      map[string]string
		noKey    bool // the Secret has no tls.key
		wantKeys []string
		check    func(t *testing.T, s *corev1.Secret)
	}{
		"jks": {
			ann:      map[string]string{annotations.Keystores: "jks"},
			wantKeys: jksKeys,
			check: func(t *testing.T, s *corev1.Secret) {
				requireKeystoreJKS(t, s.Data[annotations.KeystoreJKSKey], "changeit", "certificate", tls.leaf)
				requireTruststoreJKS(t, s.Data[annotations.TruststoreJKSKey], "changeit", tls.root)
			},
		},
		"pkcs12": {
			ann:      map[string]string{annotations.Keystores: "pkcs12"},
			wantKeys: []string{annotations.KeystorePKCS12Key, annotations.TruststorePKCS12Key},
			check: func(t *testing.T, s *corev1.Secret) {
				_, leaf, _, err := pkcs12.DecodeChain(s.Data[annotations.KeystorePKCS12Key], "changeit")
				if err != nil || !leaf.Equal(tls.leaf) {
					t.Fatalf("keystore.p12: leaf %v, err %v", leaf, err)
				}
				certs, err := pkcs12.DecodeTrustStore(s.Data[annotations.TruststorePKCS12Key], "changeit")
				if err != nil || len(certs) != 1 || !certs[0].Equal(tls.root) {
					t.Fatalf("truststore.p12: %d certificates, err %v; want the root", len(certs), err)
				}
			},
		},
		"both formats, custom alias and cert-info": {
			ann: map[string]string{annotations.Keystores: " PKCS12 , jks ", annotations.KeystoreAlias: "MyApp", annotations.CertInfo: "true"},
			wantKeys: []string{annotations.KeystoreJKSKey, annotations.TruststoreJKSKey, annotations.KeystorePKCS12Key,
				annotations.TruststorePKCS12Key, annotations.TLSCertInfoKey, annotations.CACertInfoKey},
			check: func(t *testing.T, s *corev1.Secret) {
				requireKeystoreJKS(t, s.Data[annotations.KeystoreJKSKey], "changeit", "myapp", tls.leaf)
				if info := string(s.Data[annotations.TLSCertInfoKey]); !strings.Contains(info, "CN=app.example.com") {
					t.Fatalf("tls.crt.info does not describe the leaf:\n%s", info)
				}
				if info := string(s.Data[annotations.CACertInfoKey]); !strings.Contains(info, "CN=app Root CA") {
					t.Fatalf("ca.crt.info does not describe the CA:\n%s", info)
				}
			},
		},
		"cert-info needs no private key": {
			ann:      map[string]string{annotations.CertInfo: "true"},
			noKey:    true,
			wantKeys: []string{annotations.TLSCertInfoKey, annotations.CACertInfoKey},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			src := tlsSecret(srcName, tls, tc.ann)
			src.Data["app.properties"] = []byte("user data")
			if tc.noKey {
				delete(src.Data, annotations.TLSKeyKey)
			}
			e := newTestEnv(t, src)
			e.reconcile(srcName)

			got := e.secret(srcName)
			requireKeys(t, got, append(dataKeys(src), tc.wantKeys...)...)
			for k, v := range src.Data {
				if !bytes.Equal(got.Data[k], v) {
					t.Errorf("data key %s changed", k)
				}
			}
			want := slices.Sorted(slices.Values(tc.wantKeys))
			if m := ownership.Managed(got); !slices.Equal(m, want) {
				t.Errorf("managed-keys = %q, want %q", m, want)
			}
			if got.Annotations[annotations.KeystoresFingerprint] == "" {
				t.Error("no keystores-fingerprint annotation")
			}
			for k, v := range tc.ann {
				if got.Annotations[k] != v {
					t.Errorf("annotation %s = %q, want %q", k, got.Annotations[k], v)
				}
			}
			requireEvents(t, e.takeEvents(), "Normal "+ReasonKeystoresUpdated)
			if w := e.takeWrites(); !slices.Equal(w, []string{"patch " + srcName}) {
				t.Errorf("writes = %q, want one patch", w)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

// Outputs are a function of the inputs: with the same inputs (even
// re-encoded) nothing is written, and any change of an input is written once.
func TestReconcileWritesOnlyOnChange(t *testing.T) {
	tls, other := newTLS(t, "app"), newTLS(t, "other")
	cases := map[string]struct {
		change    func(s *corev1.Secret)
		wantWrite bool
		sameFP    bool // the inputs are the same, an output is missing
	}{
		"nothing": {change: func(s *corev1.Secret) {}},
		"same PEM with CRLF": {change: func(s *corev1.Secret) {
			s.Data["tls.crt"] = bytes.ReplaceAll(s.Data["tls.crt"], []byte("\n"), []byte("\r\n"))
		}},
		"unrelated annotation":       {change: func(s *corev1.Secret) { s.Annotations["team"] = "payments" }},
		"unrelated data key":         {change: func(s *corev1.Secret) { s.Data["app.properties"] = []byte("x=1") }},
		"format written in caps":     {change: func(s *corev1.Secret) { s.Annotations[annotations.Keystores] = "JKS" }},
		"new certificate and key":    {change: func(s *corev1.Secret) { s.Data["tls.crt"], s.Data["tls.key"] = other.cert, other.key }, wantWrite: true},
		"new ca.crt":                 {change: func(s *corev1.Secret) { s.Data["ca.crt"] = other.ca }, wantWrite: true},
		"password":                   {change: func(s *corev1.Secret) { s.Annotations[annotations.KeystorePassword] = "hunter22" }, wantWrite: true},
		"alias":                      {change: func(s *corev1.Secret) { s.Annotations[annotations.KeystoreAlias] = "app" }, wantWrite: true},
		"profile":                    {change: func(s *corev1.Secret) { s.Annotations[annotations.PKCS12Profile] = "legacy-des" }, wantWrite: true},
		"format added":               {change: func(s *corev1.Secret) { s.Annotations[annotations.Keystores] = "jks,pkcs12" }, wantWrite: true},
		"cert-info added":            {change: func(s *corev1.Secret) { s.Annotations[annotations.CertInfo] = "true" }, wantWrite: true},
		"keystore deleted by a user": {change: func(s *corev1.Secret) { delete(s.Data, annotations.KeystoreJKSKey) }, wantWrite: true, sameFP: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"}))
			e.reconcile(srcName)
			e.takeEvents()
			e.takeWrites()

			e.update(srcName, tc.change)
			before := e.secret(srcName)
			e.reconcile(srcName)
			after := e.secret(srcName)
			writes, evs := e.takeWrites(), e.takeEvents()
			if !tc.wantWrite {
				if len(writes) != 0 || len(evs) != 0 {
					t.Fatalf("writes %q, events %q; want none", writes, evs)
				}
				if after.ResourceVersion != before.ResourceVersion {
					t.Fatalf("resourceVersion %s -> %s", before.ResourceVersion, after.ResourceVersion)
				}
				return
			}
			if !slices.Equal(writes, []string{"patch " + srcName}) {
				t.Fatalf("writes = %q, want one patch", writes)
			}
			requireEvents(t, evs[:1], "Normal "+ReasonKeystoresUpdated)
			if changed := after.Annotations[annotations.KeystoresFingerprint] != before.Annotations[annotations.KeystoresFingerprint]; changed == tc.sameFP {
				t.Fatalf("fingerprint changed = %t, want %t", changed, !tc.sameFP)
			}
			if _, ok := after.Data[annotations.KeystoreJKSKey]; !ok {
				t.Fatal("keystore.jks is missing after the write")
			}
			e.reconcile(srcName)
			if w := e.takeWrites(); len(w) != 0 {
				t.Fatalf("a second reconcile after the change wrote %q", w)
			}
		})
	}
}

// TestReconcileRemembersItsOwnWrite: certinel knows the event of its own
// write by the versions it left (so a cold start builds each keystore once,
// not a second time for that event); a later change of the Secret is not
// taken for it, and a deleted Secret is forgotten.
func TestReconcileRemembersItsOwnWrite(t *testing.T) {
	e := newTestEnv(t, tlsSecret(srcName, newTLS(t, "app"), map[string]string{annotations.Keystores: "jks"}))
	key := types.NamespacedName{Namespace: testNS, Name: srcName}
	e.reconcile(srcName)
	s := e.secret(srcName)
	if v, ok := e.r.lastWritten.Load(key); !ok || v != s.ResourceVersion+","+s.ResourceVersion {
		t.Fatalf("remembered %v (%t) after the write, want the Secret's version %s twice (source and output)", v, ok, s.ResourceVersion)
	}
	e.reconcile(srcName)
	if w := e.takeWrites(); !slices.Equal(w, []string{"patch " + srcName}) {
		t.Fatalf("writes = %q, want the first reconcile's patch only", w)
	}
	e.update(srcName, func(s *corev1.Secret) { s.Annotations["team"] = "payments" })
	e.reconcile(srcName)
	if v, ok := e.r.lastWritten.Load(key); ok {
		t.Fatalf("remembered %v after a user's change, as if certinel had written it", v)
	}
	if err := e.c.Delete(context.Background(), e.secret(srcName)); err != nil {
		t.Fatal(err)
	}
	e.reconcile(srcName)
	if _, ok := e.r.lastWritten.Load(key); ok {
		t.Fatal("a deleted Secret is still remembered")
	}
}

// The store password comes from a Secret, a literal (with a Warning) or the
// default; the stores open with it and with no other.
func TestReconcilePassword(t *testing.T) {
	tls := newTLS(t, "app")
	cases := map[string]struct {
		ann        map[string]string
		objs       []client.Object
		want       string
		wantEvents []string
	}{
		"Secret, default key": {
			ann:        map[string]string{annotations.KeystorePasswordSecret: "store-pw"},
			objs:       []client.Object{opaqueSecret("store-pw", map[string]string{"password": "from-secret"})},
			want:       "from-secret",
			wantEvents: []string{"Normal " + ReasonKeystoresUpdated},
		},
		"Secret, named key": {
			ann:        map[string]string{annotations.KeystorePasswordSecret: " store-pw/jks-pass "},
			objs:       []client.Object{opaqueSecret("store-pw", map[string]string{"password": "not-this", "jks-pass": "named-key"})},
			want:       "named-key",
			wantEvents: []string{"Normal " + ReasonKeystoresUpdated},
		},
		"literal, trimmed like every value": {
			ann:        map[string]string{annotations.KeystorePassword: " lit pw "},
			want:       "lit pw",
			wantEvents: []string{"Normal " + ReasonKeystoresUpdated, "Warning " + badinput.PlaintextPassword},
		},
		"default": {
			want:       "changeit",
			wantEvents: []string{"Normal " + ReasonKeystoresUpdated},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ann := map[string]string{annotations.Keystores: "jks,pkcs12"}
			maps.Copy(ann, tc.ann)
			e := newTestEnv(t, append(tc.objs, tlsSecret(srcName, tls, ann))...)
			e.reconcile(srcName)
			requireEvents(t, e.takeEvents(), tc.wantEvents...)

			s := e.secret(srcName)
			requireKeystoreJKS(t, s.Data[annotations.KeystoreJKSKey], tc.want, "certificate", tls.leaf)
			requireTruststoreJKS(t, s.Data[annotations.TruststoreJKSKey], tc.want, tls.root)
			if _, _, _, err := pkcs12.DecodeChain(s.Data[annotations.KeystorePKCS12Key], tc.want); err != nil {
				t.Fatalf("keystore.p12 with %q: %v", tc.want, err)
			}
			wrong := tc.want + "x"
			if err := loadJKSErr(s.Data[annotations.KeystoreJKSKey], wrong); err == nil {
				t.Fatalf("keystore.jks opens with the wrong password %q", wrong)
			}
			if _, _, _, err := pkcs12.DecodeChain(s.Data[annotations.KeystorePKCS12Key], wrong); err == nil {
				t.Fatalf("keystore.p12 opens with the wrong password %q", wrong)
			}
			for k, v := range s.Annotations {
				if k != annotations.KeystorePassword && strings.Contains(v, strings.TrimSpace(tc.want)) {
					t.Fatalf("annotation %s holds the password: %q", k, v)
				}
			}
		})
	}
}

// The Warning about a password in clear is given once per Secret, not on
// every write: a new literal password rewrites the stores without it.
func TestReconcilePlaintextPasswordWarnedOnce(t *testing.T) {
	tls := newTLS(t, "app")
	e := newTestEnv(t, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.KeystorePassword: "first"}))
	e.reconcile(srcName)
	requireEvents(t, e.takeEvents(), "Normal "+ReasonKeystoresUpdated, "Warning "+badinput.PlaintextPassword)

	e.update(srcName, func(s *corev1.Secret) { s.Annotations[annotations.KeystorePassword] = "second" })
	e.reconcile(srcName)
	requireEvents(t, e.takeEvents(), "Normal "+ReasonKeystoresUpdated)
	requireKeystoreJKS(t, e.secret(srcName).Data[annotations.KeystoreJKSKey], "second", "certificate", tls.leaf)
}

// cert-info alone reads no password and no truststore source: a missing
// password Secret does not block tls.crt.info, and a new password does not
// rewrite it.
func TestReconcileCertInfoIgnoresStoreInputs(t *testing.T) {
	tls := newTLS(t, "app")
	e := newTestEnv(t, tlsSecret(srcName, tls, map[string]string{
		annotations.CertInfo:               "true",
		annotations.KeystorePasswordSecret: "not-there",
		annotations.TruststoreSources:      "configmap:not-there",
	}))
	e.reconcile(srcName)
	requireEvents(t, e.takeEvents(), "Normal "+ReasonKeystoresUpdated)
	requireKeys(t, e.secret(srcName), annotations.CACertKey, annotations.CACertInfoKey, annotations.TLSCertKey, annotations.TLSCertInfoKey, annotations.TLSKeyKey)
	e.takeWrites()

	e.update(srcName, func(s *corev1.Secret) { s.Annotations[annotations.KeystorePasswordSecret] = "elsewhere" })
	e.takeWrites()
	e.reconcile(srcName)
	if w := e.takeWrites(); len(w) != 0 {
		t.Fatalf("writes = %q, want none: cert-info does not depend on the password", w)
	}
}

// Every bad input gives one Warning Event with its reason, counts in the
// metric, and leaves every object as it was.
func TestReconcileBadInput(t *testing.T) {
	tls, other := newTLS(t, "app"), newTLS(t, "other")
	jks := map[string]string{annotations.Keystores: "jks"}
	with := func(extra map[string]string) map[string]string {
		m := maps.Clone(jks)
		maps.Copy(m, extra)
		return m
	}
	cases := map[string]struct {
		src    func() *corev1.Secret
		objs   []client.Object
		reason string
	}{
		"key does not match the certificate": {
			src: func() *corev1.Secret {
				s := tlsSecret(srcName, tls, jks)
				s.Data[annotations.TLSKeyKey] = other.key
				return s
			},
			reason: badinput.KeyCertificateMismatch,
		},
		"encrypted key": {
			src: func() *corev1.Secret {
				s := tlsSecret(srcName, tls, jks)
				s.Data[annotations.TLSKeyKey] = tls.encryptedKey(t)
				return s
			},
			reason: badinput.EncryptedPrivateKey,
		},
		"no tls.crt": {
			src: func() *corev1.Secret {
				s := tlsSecret(srcName, tls, jks)
				delete(s.Data, annotations.TLSCertKey)
				return s
			},
			reason: badinput.NoCertificate,
		},
		"no tls.key": {
			src: func() *corev1.Secret {
				s := tlsSecret(srcName, tls, jks)
				delete(s.Data, annotations.TLSKeyKey)
				return s
			},
			reason: badinput.NoPrivateKey,
		},
		"malformed tls.crt": {
			src: func() *corev1.Secret {
				s := tlsSecret(srcName, tls, jks)
				s.Data[annotations.TLSCertKey] = []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
				return s
			},
			reason: badinput.MalformedPEM,
		},
		"malformed ca.crt": {
			src: func() *corev1.Secret {
				s := tlsSecret(srcName, tls, jks)
				s.Data[annotations.CACertKey] = tls.ca[:len(tls.ca)/2]
				return s
			},
			reason: badinput.MalformedPEM,
		},
		"password Secret missing": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.KeystorePasswordSecret: "store-pw"}))
			},
			reason: badinput.MissingPasswordSecret,
		},
		"password Secret without the key": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.KeystorePasswordSecret: "store-pw/pass"}))
			},
			objs:   []client.Object{opaqueSecret("store-pw", map[string]string{"password": "x"})},
			reason: badinput.MissingPasswordSecret,
		},
		"empty password in the Secret": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.KeystorePasswordSecret: "store-pw"}))
			},
			objs:   []client.Object{opaqueSecret("store-pw", map[string]string{"password": ""})},
			reason: badinput.InvalidPassword,
		},
		"non-ASCII password": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.KeystorePassword: "pässword"}))
			},
			reason: badinput.InvalidPassword,
		},
		"both password annotations": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.KeystorePasswordSecret: "store-pw", annotations.KeystorePassword: "x"}))
			},
			objs:   []client.Object{opaqueSecret("store-pw", map[string]string{"password": "x"})},
			reason: badinput.InvalidAnnotation,
		},
		"unknown format": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks,pem"})
			},
			reason: badinput.UnknownKeystoreFormat,
		},
		"unknown profile": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.PKCS12Profile: "fast"}))
			},
			reason: badinput.UnknownPKCS12Profile,
		},
		"bad cert-info value": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.CertInfo: "yes"}))
			},
			reason: badinput.InvalidAnnotation,
		},
		"truststore source missing": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.TruststoreSources: "configmap:bundle"}))
			},
			reason: badinput.MissingTruststoreSource,
		},
		"truststore source without the key": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.TruststoreSources: "configmap:bundle/root.pem"}))
			},
			objs:   []client.Object{configMap("bundle", map[string]string{"ca.crt": string(other.ca)})},
			reason: badinput.MissingSourceKey,
		},
		"truststore source not PEM": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.TruststoreSources: "configmap:bundle"}))
			},
			objs:   []client.Object{configMap("bundle", map[string]string{"ca.crt": "hello"})},
			reason: badinput.NoCertificate,
		},
		"bad truststore source reference": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.TruststoreSources: "bundle"}))
			},
			reason: badinput.InvalidAnnotation,
		},
		"keystore.jks that certinel did not write": {
			src: func() *corev1.Secret {
				s := tlsSecret(srcName, tls, jks)
				s.Data[annotations.KeystoreJKSKey] = []byte("the user's own store")
				return s
			},
			reason: badinput.DataKeyConflict,
		},
		"target exists and is not certinel's": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.KeystoresTarget: "stores"}))
			},
			objs:   []client.Object{opaqueSecret("stores", map[string]string{"keystore.jks": "someone else's"})},
			reason: badinput.TargetConflict,
		},
		"target owned by another Secret": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.KeystoresTarget: "stores"}))
			},
			objs:   []client.Object{ownedTarget("stores", tlsSecret("another", tls, nil))},
			reason: badinput.TargetConflict,
		},
		"target is the Secret itself": {
			src: func() *corev1.Secret {
				return tlsSecret(srcName, tls, with(map[string]string{annotations.KeystoresTarget: srcName}))
			},
			reason: badinput.InvalidAnnotation,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, append(tc.objs, tc.src())...)
			before := e.list()
			count := invalidInputCount(t, tc.reason)

			e.reconcile(srcName)

			evs := e.takeEvents()
			requireEvents(t, evs, "Warning "+tc.reason)
			if msg := strings.TrimPrefix(evs[0], "Warning "+tc.reason+" "); len(msg) < 10 {
				t.Errorf("event message %q does not say what to fix", msg)
			}
			if w := e.takeWrites(); len(w) != 0 {
				t.Errorf("writes = %q, want none", w)
			}
			if after := e.list(); !reflect.DeepEqual(after, before) {
				t.Errorf("objects changed:\nbefore %+v\nafter  %+v", before, after)
			}
			if got := invalidInputCount(t, tc.reason); got != count+1 {
				t.Errorf("certinel_invalid_input_total{reason=%q} = %v, want %v", tc.reason, got, count+1)
			}
		})
	}
}

// A Secret whose input turns bad keeps the stores it had.
func TestReconcileBadInputKeepsOutputs(t *testing.T) {
	tls, other := newTLS(t, "app"), newTLS(t, "other")
	e := newTestEnv(t, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"}))
	e.reconcile(srcName)
	e.takeEvents()
	e.update(srcName, func(s *corev1.Secret) { s.Data[annotations.TLSKeyKey] = other.key })
	before := e.secret(srcName)

	e.reconcile(srcName)

	requireEvents(t, e.takeEvents(), "Warning "+badinput.KeyCertificateMismatch)
	if after := e.secret(srcName); !reflect.DeepEqual(after, before) {
		t.Fatal("the Secret changed on bad input")
	}
	requireKeystoreJKS(t, before.Data[annotations.KeystoreJKSKey], "changeit", "certificate", tls.leaf)
}

// Removing the annotations removes exactly certinel's keys and bookkeeping;
// the user's keys and annotations stay.
func TestReconcileRemovesOutputs(t *testing.T) {
	tls := newTLS(t, "app")
	userKeys := []string{annotations.TLSCertKey, annotations.TLSKeyKey, annotations.CACertKey, "app.properties"}
	cases := map[string]struct {
		ann        map[string]string
		change     func(s *corev1.Secret)
		wantKeys   []string
		wantEvent  string
		wantAnnots map[string]string // besides the fingerprint
	}{
		"annotations removed": {
			ann: map[string]string{annotations.Keystores: "jks,pkcs12", annotations.CertInfo: "true", annotations.KeystorePassword: "pw"},
			change: func(s *corev1.Secret) {
				delete(s.Annotations, annotations.Keystores)
				delete(s.Annotations, annotations.CertInfo)
				delete(s.Annotations, annotations.KeystorePassword)
			},
			wantKeys:   userKeys,
			wantEvent:  "Normal " + ReasonKeystoresRemoved,
			wantAnnots: map[string]string{"team": "payments"},
		},
		"keystores emptied": {
			ann:        map[string]string{annotations.Keystores: "jks"},
			change:     func(s *corev1.Secret) { s.Annotations[annotations.Keystores] = "" },
			wantKeys:   userKeys,
			wantEvent:  "Normal " + ReasonKeystoresRemoved,
			wantAnnots: map[string]string{"team": "payments", annotations.Keystores: ""},
		},
		"managed-keys edited to list user keys": {
			ann: map[string]string{annotations.Keystores: "jks"},
			change: func(s *corev1.Secret) {
				delete(s.Annotations, annotations.Keystores)
				s.Annotations[annotations.ManagedKeys] += ",tls.key,app.properties"
			},
			wantKeys:  userKeys,
			wantEvent: "Normal " + ReasonKeystoresRemoved,
			// keys of other features stay listed: certinel removes only its own
			wantAnnots: map[string]string{"team": "payments", annotations.ManagedKeys: "app.properties,tls.key"},
		},
		"one format of two removed": {
			ann:       map[string]string{annotations.Keystores: "jks,pkcs12"},
			change:    func(s *corev1.Secret) { s.Annotations[annotations.Keystores] = "pkcs12" },
			wantKeys:  append(slices.Clone(userKeys), annotations.KeystorePKCS12Key, annotations.TruststorePKCS12Key),
			wantEvent: "Normal " + ReasonKeystoresUpdated,
			wantAnnots: map[string]string{"team": "payments", annotations.Keystores: "pkcs12",
				annotations.ManagedKeys: "keystore.p12,truststore.p12"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ann := map[string]string{"team": "payments"}
			maps.Copy(ann, tc.ann)
			src := tlsSecret(srcName, tls, ann)
			src.Data["app.properties"] = []byte("x=1")
			e := newTestEnv(t, src)
			e.reconcile(srcName)
			e.takeEvents()
			e.takeWrites()

			e.update(srcName, tc.change)
			e.reconcile(srcName)

			s := e.secret(srcName)
			requireKeys(t, s, tc.wantKeys...)
			for _, k := range userKeys {
				if !bytes.Equal(s.Data[k], src.Data[k]) {
					t.Errorf("user key %s changed", k)
				}
			}
			got := maps.Clone(s.Annotations)
			fp, hasFP := got[annotations.KeystoresFingerprint]
			delete(got, annotations.KeystoresFingerprint)
			delete(got, annotations.ManagedDigests) // compared in pkg/ownership
			if !maps.Equal(got, tc.wantAnnots) {
				t.Errorf("annotations = %v, want %v", got, tc.wantAnnots)
			}
			if hasFP != (tc.wantEvent == "Normal "+ReasonKeystoresUpdated) || (hasFP && fp == "") {
				t.Errorf("keystores-fingerprint = %q (present %t)", fp, hasFP)
			}
			requireEvents(t, e.takeEvents(), tc.wantEvent)
			if w := e.takeWrites(); !slices.Equal(w, []string{"patch " + srcName}) {
				t.Errorf("writes = %q, want one patch", w)
			}
			e.reconcile(srcName)
			if w, evs := e.takeWrites(), e.takeEvents(); len(w)+len(evs) != 0 {
				t.Errorf("second reconcile: writes %q, events %q", w, evs)
			}
		})
	}
}

// A Secret that never asked for outputs is not written.
func TestReconcileIgnoresPlainSecrets(t *testing.T) {
	tls := newTLS(t, "app")
	e := newTestEnv(t, tlsSecret(srcName, tls, map[string]string{"team": "payments"}), opaqueSecret("plain", map[string]string{"a": "b"}))
	e.reconcile(srcName)
	e.reconcile("plain")
	e.reconcile("does-not-exist")
	if w, evs := e.takeWrites(), e.takeEvents(); len(w)+len(evs) != 0 {
		t.Fatalf("writes %q, events %q; want none", w, evs)
	}
}

// keystores-target writes into a Secret certinel creates and owns; moving
// the outputs writes the new place before it clears the old one.
func TestReconcileTarget(t *testing.T) {
	tls := newTLS(t, "app")
	const target = "app-stores"
	withTarget := map[string]string{annotations.Keystores: "jks", annotations.KeystoresTarget: target}

	t.Run("creates an owned target and leaves the source alone", func(t *testing.T) {
		src := tlsSecret(srcName, tls, withTarget)
		e := newTestEnv(t, src)
		srcBefore := e.secret(srcName)
		e.reconcile(srcName)

		if w := e.takeWrites(); !slices.Equal(w, []string{"create " + target}) {
			t.Fatalf("writes = %q, want only the target's creation", w)
		}
		tgt := e.secret(target)
		requireKeys(t, tgt, jksKeys...)
		requireKeystoreJKS(t, tgt.Data[annotations.KeystoreJKSKey], "changeit", "certificate", tls.leaf)
		ref := metav1.GetControllerOf(tgt)
		if ref == nil || ref.APIVersion != "v1" || ref.Kind != "Secret" || ref.Name != srcName || ref.UID != src.UID {
			t.Fatalf("target controller reference = %+v, want Secret %s (%s)", ref, srcName, src.UID)
		}
		if !slices.Equal(ownership.Managed(tgt), []string{"keystore.jks", "truststore.jks"}) || tgt.Annotations[annotations.KeystoresFingerprint] == "" {
			t.Fatalf("target annotations = %v", tgt.Annotations)
		}
		if after := e.secret(srcName); !reflect.DeepEqual(after, srcBefore) {
			t.Fatalf("the source changed: %v", after.Annotations)
		}
		evs := e.takeEvents()
		requireEvents(t, evs, "Normal "+ReasonKeystoresUpdated, "Normal "+ReasonKeystoresUpdated)
		if !strings.Contains(strings.Join(evs, "\n"), "into Secret "+target) {
			t.Fatalf("events %q do not name the target", evs)
		}

		e.reconcile(srcName)
		e.reconcile(target) // a target is reconciled through its source only
		if w, evs := e.takeWrites(), e.takeEvents(); len(w)+len(evs) != 0 {
			t.Fatalf("second reconcile: writes %q, events %q", w, evs)
		}
	})

	t.Run("moving outputs from the source to a target", func(t *testing.T) {
		e := newTestEnv(t, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"}))
		e.reconcile(srcName)
		e.takeWrites()
		e.takeEvents()

		e.update(srcName, func(s *corev1.Secret) { s.Annotations[annotations.KeystoresTarget] = target })
		e.reconcile(srcName)

		if w := e.takeWrites(); !slices.Equal(w, []string{"create " + target, "patch " + srcName}) {
			t.Fatalf("writes = %q, want the target created before the source is cleared", w)
		}
		requireKeys(t, e.secret(target), jksKeys...)
		src := e.secret(srcName)
		requireKeys(t, src, annotations.TLSCertKey, annotations.TLSKeyKey, annotations.CACertKey)
		if _, ok := src.Annotations[annotations.ManagedKeys]; ok {
			t.Fatalf("source still has managed-keys: %v", src.Annotations)
		}
		if _, ok := src.Annotations[annotations.KeystoresFingerprint]; ok {
			t.Fatalf("source still has a fingerprint: %v", src.Annotations)
		}
	})

	cases := map[string]struct {
		change     func(s *corev1.Secret)
		userData   bool // a user added a key to the target
		wantWrites []string
		srcKeys    bool // the source holds the stores afterwards
		// targetLeft: "" deleted, "released" kept without owner and outputs
		targetLeft string
	}{
		"back to in-place: make before break": {
			change:     func(s *corev1.Secret) { delete(s.Annotations, annotations.KeystoresTarget) },
			wantWrites: []string{"patch " + srcName, "delete " + target},
			srcKeys:    true,
		},
		"back to in-place, target with user data is released": {
			change:     func(s *corev1.Secret) { delete(s.Annotations, annotations.KeystoresTarget) },
			userData:   true,
			wantWrites: []string{"patch " + srcName, "patch " + target},
			srcKeys:    true,
			targetLeft: "released",
		},
		"another target": {
			change:     func(s *corev1.Secret) { s.Annotations[annotations.KeystoresTarget] = "new-stores" },
			wantWrites: []string{"create new-stores", "delete " + target},
		},
		"annotations removed": {
			change: func(s *corev1.Secret) {
				delete(s.Annotations, annotations.Keystores)
				delete(s.Annotations, annotations.KeystoresTarget)
			},
			wantWrites: []string{"delete " + target},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, tlsSecret(srcName, tls, withTarget))
			e.reconcile(srcName)
			if tc.userData {
				e.update(target, func(s *corev1.Secret) { s.Data["extra"] = []byte("mine") })
			}
			e.takeWrites()
			e.takeEvents()

			e.update(srcName, tc.change)
			e.reconcile(srcName)

			if w := e.takeWrites(); !slices.Equal(w, tc.wantWrites) {
				t.Fatalf("writes = %q, want %q", w, tc.wantWrites)
			}
			src := e.secret(srcName)
			if tc.srcKeys {
				requireKeys(t, src, annotations.TLSCertKey, annotations.TLSKeyKey, annotations.CACertKey, annotations.KeystoreJKSKey, annotations.TruststoreJKSKey)
				requireKeystoreJKS(t, src.Data[annotations.KeystoreJKSKey], "changeit", "certificate", tls.leaf)
			} else {
				requireKeys(t, src, annotations.TLSCertKey, annotations.TLSKeyKey, annotations.CACertKey)
			}
			switch tc.targetLeft {
			case "":
				if e.exists(target) {
					t.Fatalf("former target %s still exists", target)
				}
			case "released":
				tgt := e.secret(target)
				requireKeys(t, tgt, "extra")
				if len(tgt.OwnerReferences) != 0 || tgt.Annotations[annotations.ManagedKeys] != "" || tgt.Annotations[annotations.KeystoresFingerprint] != "" {
					t.Fatalf("released target still carries certinel's marks: %+v %v", tgt.OwnerReferences, tgt.Annotations)
				}
			}
			if evs := e.takeEvents(); !slices.ContainsFunc(evs, func(ev string) bool {
				return strings.HasPrefix(ev, "Normal "+ReasonKeystoresRemoved+" ") && strings.Contains(ev, target)
			}) {
				t.Fatalf("no KeystoresRemoved event naming %s in %q", target, evs)
			}
			e.reconcile(srcName)
			if w := e.takeWrites(); len(w) != 0 {
				t.Fatalf("second reconcile wrote %q", w)
			}
		})
	}
}

// A target without certinel annotations, reconciled directly (as a watch
// on Secrets does), is left alone even when its source is gone.
func TestReconcileLeavesTargetAlone(t *testing.T) {
	tls := newTLS(t, "app")
	for name, owner := range map[string]*corev1.Secret{
		"source exists": tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.KeystoresTarget: "stores"}),
		"source gone":   nil,
	} {
		t.Run(name, func(t *testing.T) {
			tgt := ownedTarget("stores", tlsSecret(srcName, tls, nil))
			tgt.Annotations = map[string]string{annotations.ManagedKeys: "keystore.jks,truststore.jks", annotations.KeystoresFingerprint: "fp"}
			tgt.Data = map[string][]byte{"keystore.jks": []byte("ks"), "truststore.jks": []byte("ts")}
			objs := []client.Object{tgt}
			if owner != nil {
				objs = append(objs, owner)
			}
			e := newTestEnv(t, objs...)
			before := e.secret("stores")
			e.reconcile("stores")
			if w, evs := e.takeWrites(), e.takeEvents(); len(w)+len(evs) != 0 {
				t.Fatalf("writes %q, events %q; want none", w, evs)
			}
			if after := e.secret("stores"); !reflect.DeepEqual(after, before) {
				t.Fatal("the target changed")
			}
		})
	}
}

// Truststore sources are merged, de-duplicated, and read only from the
// namespaces certinel watches; one in another namespace only with consent.
func TestReconcileTruststoreSources(t *testing.T) {
	tls := newTLS(t, "app")
	caA, caB, caC := newCA(t, "a"), newCA(t, "b"), newCA(t, "c")
	sources := func() []client.Object {
		return []client.Object{
			configMap("bundle", map[string]string{"ca.crt": string(caA.pem) + string(tls.ca)}), // ca.crt again: de-duplicated
			sharedWith(testNS, inNamespace("shared", opaqueSecret("corp-ca", map[string]string{"root.pem": string(caB.pem)}))),
			&corev1.ConfigMap{ObjectMeta: objectMeta("binary", nil), BinaryData: map[string][]byte{"ca.crt": caC.pem}},
		}
	}
	ann := map[string]string{
		annotations.Keystores:         "jks",
		annotations.TruststoreSources: "secret:shared/corp-ca/root.pem, configmap:bundle,configmap:binary",
	}
	cases := map[string]struct {
		namespaces []string
		reason     string
	}{
		"all namespaces":               {},
		"both namespaces watched":      {namespaces: []string{testNS, "shared"}},
		"source namespace not watched": {namespaces: []string{testNS}, reason: badinput.MissingTruststoreSource},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, append(sources(), tlsSecret(srcName, tls, ann))...)
			e.r.Namespaces = tc.namespaces
			e.reconcile(srcName)
			evs := e.takeEvents()
			if tc.reason != "" {
				requireEvents(t, evs, "Warning "+tc.reason)
				if !strings.Contains(evs[0], "namespace shared") {
					t.Fatalf("event %q does not name the unwatched namespace", evs[0])
				}
				if w := e.takeWrites(); len(w) != 0 {
					t.Fatalf("writes = %q, want none", w)
				}
				return
			}
			requireEvents(t, evs, "Normal "+ReasonKeystoresUpdated)
			requireTruststoreJKS(t, e.secret(srcName).Data[annotations.TruststoreJKSKey], "changeit", tls.root, caA.cert, caB.cert, caC.cert)
		})
	}
}

// sharedWith gives obj consent to be read from namespace ns.
func sharedWith[T client.Object](ns string, obj T) T {
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[annotations.ShareCertificatesWith] = ns
	obj.SetAnnotations(ann)
	return obj
}

// A password Secret or ConfigMap whose data the cache drops is read through
// Live; objects the cache keeps whole are not.
func TestReconcileReadsTrimmedObjectsLive(t *testing.T) {
	tls, ca := newTLS(t, "app"), newCA(t, "bundle")
	pw := opaqueSecret("store-pw", map[string]string{"password": "live-pw"})
	bundle := configMap("bundle", map[string]string{"ca.crt": string(ca.pem)})
	src := tlsSecret(srcName, tls, map[string]string{
		annotations.Keystores:              "jks",
		annotations.KeystorePasswordSecret: "store-pw",
		annotations.TruststoreSources:      "configmap:bundle",
	})
	var liveGets []string
	live := newFakeClient(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			liveGets = append(liveGets, key.Name)
			return c.Get(ctx, key, obj, opts...)
		},
	}, pw, bundle, src)
	cachedPW, cachedBundle := trimmed(t, pw), trimmed(t, bundle)
	if len(cachedPW.(*corev1.Secret).Data) != 0 || len(cachedBundle.(*corev1.ConfigMap).Data) != 0 {
		t.Fatal("TrimForCache kept the data of an unannotated Opaque Secret or ConfigMap")
	}
	e := newTestEnv(t, cachedPW, cachedBundle, trimmed(t, src))
	e.r.Live = live
	e.reconcile(srcName)

	requireEvents(t, e.takeEvents(), "Normal "+ReasonKeystoresUpdated)
	s := e.secret(srcName)
	requireKeystoreJKS(t, s.Data[annotations.KeystoreJKSKey], "live-pw", "certificate", tls.leaf)
	requireTruststoreJKS(t, s.Data[annotations.TruststoreJKSKey], "live-pw", tls.root, ca.cert)
	slices.Sort(liveGets)
	if !slices.Equal(liveGets, []string{"bundle", "store-pw"}) {
		t.Fatalf("live reads = %q, want only the trimmed password Secret and ConfigMap", liveGets)
	}
}

// trimmed is obj as the cache holds it.
func trimmed(t *testing.T, obj client.Object) client.Object {
	t.Helper()
	out, err := TrimForCache(obj.DeepCopyObject())
	if err != nil {
		t.Fatal(err)
	}
	return out.(client.Object)
}

func TestTrimForCache(t *testing.T) {
	meta := func(ann map[string]string) metav1.ObjectMeta {
		m := objectMeta("obj", ann)
		m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}}
		return m
	}
	lastApplied := map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"password":"c2VjcmV0"}}`, "team": "a"}
	data := map[string][]byte{"k": []byte("v")}
	cases := map[string]struct {
		obj      client.Object
		keepData bool
		// monitored: section 5 watches its expiry, so the cache keeps the
		// validity of its certificates (none here: no tls.crt).
		monitored bool
	}{
		"tls Secret":                {obj: &corev1.Secret{ObjectMeta: meta(lastApplied), Type: corev1.SecretTypeTLS, Data: data}, monitored: true},
		"Secret that only consents": {obj: &corev1.Secret{ObjectMeta: meta(map[string]string{annotations.ShareCertificatesWith: "*", annotations.AllowExportTo: "a"}), Type: corev1.SecretTypeTLS, Data: data}, monitored: true},
		"Secret that opts out":      {obj: &corev1.Secret{ObjectMeta: meta(map[string]string{annotations.ReloadIgnore: "true", annotations.Monitor: "false"}), Type: corev1.SecretTypeTLS, Data: data}},
		"annotated Opaque Secret": {obj: &corev1.Secret{ObjectMeta: meta(map[string]string{annotations.Keystores: "jks"}), Type: corev1.SecretTypeOpaque, Data: data},
			keepData: true, monitored: true},
		"Secret with certinel bookkeeping only": {obj: &corev1.Secret{ObjectMeta: meta(map[string]string{annotations.ManagedKeys: "keystore.jks"}), Data: data},
			keepData: true, monitored: true},
		"Opaque Secret":              {obj: &corev1.Secret{ObjectMeta: meta(lastApplied), Type: corev1.SecretTypeOpaque, Data: data, StringData: map[string]string{"s": "t"}}},
		"Helm release Secret":        {obj: &corev1.Secret{ObjectMeta: meta(nil), Type: "helm.sh/release.v1", Data: data}},
		"Secret with another prefix": {obj: &corev1.Secret{ObjectMeta: meta(map[string]string{"example.com/keystores": "jks"}), Data: data}},
		"annotated ConfigMap": {obj: &corev1.ConfigMap{ObjectMeta: meta(map[string]string{annotations.InjectCAKey: "ca.crt"}),
			Data: map[string]string{"k": "v"}, BinaryData: data}, keepData: true},
		"ConfigMap": {obj: &corev1.ConfigMap{ObjectMeta: meta(lastApplied), Data: map[string]string{"k": "v"}, BinaryData: data}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := tc.obj.DeepCopyObject().(client.Object)
			out, err := TrimForCache(in)
			if err != nil {
				t.Fatal(err)
			}
			o := out.(client.Object)
			if len(o.GetManagedFields()) != 0 {
				t.Error("managedFields kept")
			}
			wantAnn := maps.Clone(tc.obj.GetAnnotations())
			delete(wantAnn, "kubectl.kubernetes.io/last-applied-configuration")
			if !tc.keepData {
				if wantAnn == nil {
					wantAnn = map[string]string{}
				}
				wantAnn[trimmedMark] = "true" // readers never take it for the whole object
			}
			if wantAnn == nil {
				wantAnn = map[string]string{}
			}
			if tc.monitored {
				wantAnn[validityMark] = ""
			}
			wantAnn[transformedMark] = cacheToken
			if !maps.Equal(o.GetAnnotations(), wantAnn) {
				t.Errorf("annotations = %v, want %v", o.GetAnnotations(), wantAnn)
			}
			var gotData bool
			switch o := o.(type) {
			case *corev1.Secret:
				gotData = len(o.Data) > 0
				if !tc.keepData && len(o.StringData) > 0 {
					t.Error("stringData kept")
				}
			case *corev1.ConfigMap:
				gotData = len(o.Data) > 0 || len(o.BinaryData) > 0
				if tc.keepData && (len(o.Data) == 0 || len(o.BinaryData) == 0) {
					t.Error("part of the ConfigMap's data dropped")
				}
			}
			if gotData != tc.keepData {
				t.Errorf("data kept = %t, want %t", gotData, tc.keepData)
			}
			if o.GetName() != "obj" || o.GetUID() != tc.obj.GetUID() {
				t.Error("identity changed")
			}
		})
	}
	t.Run("other types pass through", func(t *testing.T) {
		pod := &corev1.Pod{ObjectMeta: meta(lastApplied), Spec: corev1.PodSpec{NodeName: "n"}}
		out, err := TrimForCache(pod)
		if err != nil || out.(*corev1.Pod).Spec.NodeName != "n" || len(pod.ManagedFields) != 0 || isTrimmed(pod) {
			t.Fatalf("pod = %+v, err %v", out, err)
		}
	})
}

// secretRequests and referrers map watch events to the Secrets to reconcile.
func TestWatchMapping(t *testing.T) {
	tls := newTLS(t, "app")
	src := tlsSecret(srcName, tls, map[string]string{
		annotations.Keystores:              "jks",
		annotations.KeystorePasswordSecret: "store-pw/pass",
		annotations.TruststoreSources:      "configmap:bundle, secret:shared/corp-ca",
		annotations.KeystoresTarget:        "app-stores",
	})
	other := tlsSecret("other-tls", tls, map[string]string{annotations.Keystores: "pkcs12", annotations.TruststoreSources: "configmap:bundle"})
	removed := tlsSecret("removed-tls", tls, map[string]string{annotations.ManagedKeys: "keystore.jks"})
	target := ownedTarget("app-stores", src)
	objs := []client.Object{
		src, other, removed, target,
		opaqueSecret("store-pw", map[string]string{"pass": "x"}),
		opaqueSecret("unrelated", map[string]string{"a": "b"}),
		sharedWith(testNS, inNamespace("shared", opaqueSecret("corp-ca", nil))),
		configMap("bundle", nil),
		configMap("store-pw", nil), // a ConfigMap named like the password Secret
		inNamespace("elsewhere", configMap("bundle", nil)),
	}
	// the event of the same source once it no longer consents
	unshared := inNamespace("shared", opaqueSecret("corp-ca", nil))
	e := newTestEnv(t, objs...)
	want := func(names ...string) []reconcile.Request {
		var out []reconcile.Request
		for _, n := range names {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: testNS, Name: n}})
		}
		return out
	}
	cases := map[string]struct {
		obj  client.Object
		want []reconcile.Request
	}{
		"password Secret":                 {obj: objs[4], want: want(srcName)},
		"truststore Secret in another ns": {obj: objs[6], want: want(srcName)},
		// a change of a source that does not consent wakes nobody elsewhere:
		// their Events would tell when it changes
		"truststore Secret in another ns without consent": {obj: unshared},
		"truststore ConfigMap":                            {obj: objs[7], want: want(srcName, "other-tls")},
		"target":                                          {obj: target, want: want(srcName)},
		"annotated Secret":                                {obj: src, want: want(srcName)},
		"Secret that still holds outputs":                 {obj: removed, want: want("removed-tls")},
		"unrelated Secret":                                {obj: objs[5]},
		"ConfigMap named like a Secret":                   {obj: objs[8]},
		"same name in another namespace":                  {obj: objs[9]},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// A Secret has two watches: itself and its source, and the
			// Secrets that read it; a ConfigMap only the second.
			got := e.r.referrers(context.Background(), tc.obj)
			if _, ok := tc.obj.(*corev1.Secret); ok {
				got = append(got, e.r.secretRequests(context.Background(), tc.obj)...)
			}
			key := func(r reconcile.Request) string { return r.String() }
			slices.SortFunc(got, func(a, b reconcile.Request) int { return strings.Compare(key(a), key(b)) })
			if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
				t.Fatalf("requests = %v, want %v", got, tc.want)
			}
		})
	}
}

// A Secret that another Secret controls, but that certinel did not create,
// is not certinel's target: reconciling its controller (which any event of
// the child triggers through secretRequests) must neither patch nor delete
// it. OpenShift's dockercfg Secrets, for one, are controlled by their token
// Secret.
func TestReconcileLeavesForeignChildSecretsAlone(t *testing.T) {
	tls := newTLS(t, "app")
	parent := opaqueSecret("parent", map[string]string{"token": "t"})
	controller := true
	child := func(typ corev1.SecretType) *corev1.Secret {
		s := opaqueSecret("child", map[string]string{"config.json": "{}"})
		s.Type = typ
		if typ == corev1.SecretTypeTLS {
			s.Data = tlsSecret("child", tls, nil).Data
		}
		s.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: "parent", UID: parent.UID, Controller: &controller}}
		return s
	}
	cases := map[string]*corev1.Secret{
		// the cache keeps the data of kubernetes.io/tls Secrets
		"kubernetes.io/tls child": child(corev1.SecretTypeTLS),
		// the cache drops the data of other unannotated Secrets (TrimForCache)
		"kubernetes.io/dockercfg child, as the cache holds it": child(corev1.SecretTypeDockercfg),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cached, err := TrimForCache(c.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			e := newTestEnv(t, parent.DeepCopy(), cached.(*corev1.Secret))
			e.reconcile("parent") // today every event of the child enqueues the parent
			if w := e.takeWrites(); len(w) != 0 {
				t.Errorf("writes = %q; certinel wrote to Secrets it never created", w)
			}
			if !e.exists("child") {
				t.Fatal("certinel deleted Secret child, which it did not create")
			}
			if got := e.secret("child"); len(got.OwnerReferences) != 1 {
				t.Errorf("child ownerReferences = %+v, want the parent's", got.OwnerReferences)
			}
		})
	}
}

// A user's annotated TLS Secret that another Secret controls keeps its own
// outputs and its owner's reference when that owner is reconciled, and its
// outputs go when its own annotation goes.
func TestReconcileControlledSourceKeepsItsOutputs(t *testing.T) {
	tls := newTLS(t, "app")
	parent := tlsSecret("parent", tls, map[string]string{annotations.Keystores: "jks"})
	parent.UID = "uid-parent"
	src := tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"})
	src.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: "parent", UID: parent.UID, Controller: ptr.To(true)}}
	e := newTestEnv(t, parent, src)
	e.reconcile(srcName)
	e.reconcile("parent")
	e.takeWrites()
	e.takeEvents()

	for range 2 { // src's events enqueue it, and parent through secretRequests
		e.reconcile("parent")
		e.reconcile(srcName)
	}
	if w := e.takeWrites(); len(w) != 0 {
		t.Fatalf("writes = %q, want none: the child is a source of its own, not parent's target", w)
	}
	got := e.secret(srcName)
	requireKeys(t, got, annotations.CACertKey, annotations.KeystoreJKSKey, annotations.TLSCertKey, annotations.TLSKeyKey, annotations.TruststoreJKSKey)
	if len(got.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences = %+v, want parent's kept", got.OwnerReferences)
	}

	// Without its annotation it holds outputs nothing asks for; its events
	// reconcile it and its owner (secretRequests), which removes them but
	// keeps the owner's reference: certinel did not create this Secret.
	e.update(srcName, func(s *corev1.Secret) { delete(s.Annotations, annotations.Keystores) })
	requireRequests(t, e.r.secretRequests(context.Background(), e.secret(srcName)), srcName, "parent")
	e.reconcile(srcName)
	e.reconcile("parent")
	got = e.secret(srcName)
	requireKeys(t, got, annotations.CACertKey, annotations.TLSCertKey, annotations.TLSKeyKey)
	if len(got.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences = %+v, want parent's kept", got.OwnerReferences)
	}
}

func requireRequests(t *testing.T, got []reconcile.Request, names ...string) {
	t.Helper()
	for _, name := range names {
		if !slices.ContainsFunc(got, func(r reconcile.Request) bool { return r.Name == name }) {
			t.Fatalf("requests = %v, want %s among them", got, name)
		}
	}
}

// A target stays certinel's target when a user drops its label or sets
// cert-info to false on it: its outputs stay, and they go (with the
// target, when certinel can tell it created it) when the source stops
// naming it.
func TestReconcileTargetEditedByUser(t *testing.T) {
	tls := newTLS(t, "app")
	for name, edit := range map[string]func(*corev1.Secret){
		"label removed":       func(s *corev1.Secret) { delete(s.Labels, managedByLabel) },
		"cert-info false":     func(s *corev1.Secret) { s.Annotations[annotations.CertInfo] = "false" },
		"unrelated label set": func(s *corev1.Secret) { s.Labels["team"] = "payments" },
	} {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.KeystoresTarget: "stores"}))
			e.reconcile(srcName)
			e.update("stores", func(s *corev1.Secret) {
				if s.Annotations == nil {
					s.Annotations = map[string]string{}
				}
				edit(s)
			})
			e.takeWrites()
			for range 2 {
				e.reconcile("stores")
				e.reconcile(srcName)
			}
			if w := e.takeWrites(); len(w) != 0 {
				t.Fatalf("writes = %q, want none", w)
			}
			requireKeys(t, e.secret("stores"), annotations.KeystoreJKSKey, annotations.TruststoreJKSKey)

			e.update(srcName, func(s *corev1.Secret) { delete(s.Annotations, annotations.KeystoresTarget) })
			e.reconcile(srcName)
			requireKeys(t, e.secret(srcName), annotations.CACertKey, annotations.KeystoreJKSKey, annotations.TLSCertKey, annotations.TLSKeyKey, annotations.TruststoreJKSKey)
			if name != "label removed" { // certinel's label tells it made the target: deleted
				if e.exists("stores") {
					t.Fatal("the former target certinel created is still there")
				}
				return
			}
			if got := e.secret("stores"); len(got.Data) != 0 || len(got.OwnerReferences) != 1 {
				t.Fatalf("former target without certinel's label: data keys %v, owners %v; want outputs removed, Secret and owner kept", dataKeys(got), got.OwnerReferences)
			}
		})
	}
}

// An annotated Secret is reconciled on its own changes even when another
// Secret controls it: only a Secret certinel created is a target whose
// events belong to its source.
func TestSecretRequestsForControlledSource(t *testing.T) {
	tls := newTLS(t, "app")
	parent := opaqueSecret("parent", nil)
	src := tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks"})
	controller := true
	src.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: "parent", UID: parent.UID, Controller: &controller}}
	e := newTestEnv(t, parent, src)
	got := e.r.secretRequests(context.Background(), src)
	if !slices.ContainsFunc(got, func(r reconcile.Request) bool { return r.Name == srcName }) {
		t.Fatalf("requests = %v: a change of annotated Secret %s does not reconcile it", got, srcName)
	}
}

// countingReader counts the reads that reach the API server.
type countingReader struct {
	client.Reader
	mu   sync.Mutex
	gets map[string]int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	c.gets[key.Name]++
	c.mu.Unlock()
	return c.Reader.Get(ctx, key, obj, opts...)
}

// A password Secret whose data the cache leaves out is fetched once per
// resourceVersion, however many keystore Secrets name it: after a restart,
// 1000 Secrets sharing one password Secret cost one GET, not 1000.
func TestReconcileFetchesSharedPasswordSecretOnce(t *testing.T) {
	tls := newTLS(t, "app")
	ann := map[string]string{annotations.Keystores: "jks", annotations.KeystorePasswordSecret: "store-pw"}
	pw := opaqueSecret("store-pw", map[string]string{"password": "first"})
	e := newTestEnv(t, pw, tlsSecret("a", tls, ann), tlsSecret("b", tls, ann), tlsSecret("c", tls, ann))
	// The cache holds the password Secret without its data; the API server whole.
	apiServer := newFakeClient(interceptor.Funcs{}, pw)
	live := &countingReader{Reader: apiServer, gets: map[string]int{}}
	e.r.Live = live
	e.update("store-pw", func(s *corev1.Secret) { s.Data = nil; markTrimmed(s) })
	for _, name := range []string{"a", "b", "c"} {
		e.reconcile(name)
		requireKeystoreJKS(t, e.secret(name).Data[annotations.KeystoreJKSKey], "first", "certificate", tls.leaf)
	}
	if got := live.gets["store-pw"]; got != 1 {
		t.Fatalf("password Secret fetched %d times from the API server, want 1", got)
	}

	// A new password is a new resourceVersion: fetched again, and used.
	apiServerUpdate(t, apiServer, "store-pw", "second")
	e.update("store-pw", func(s *corev1.Secret) { s.Labels = map[string]string{"v": "2"} })
	for _, name := range []string{"a", "b", "c"} {
		e.reconcile(name)
		requireKeystoreJKS(t, e.secret(name).Data[annotations.KeystoreJKSKey], "second", "certificate", tls.leaf)
	}
	if got := live.gets["store-pw"]; got != 2 {
		t.Fatalf("password Secret fetched %d times from the API server, want 2", got)
	}
}

func apiServerUpdate(t *testing.T, c client.Client, name, password string) {
	t.Helper()
	var s corev1.Secret
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: testNS, Name: name}, &s); err != nil {
		t.Fatal(err)
	}
	s.Data["password"] = []byte(password)
	if err := c.Update(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
}

// What was read of a referenced object is kept only while a Secret still
// reads it: dropped when the Secret stops naming it or is deleted.
func TestSourcesReleasedWhenUnreferenced(t *testing.T) {
	tls, ca := newTLS(t, "app"), newCA(t, "bundle")
	e := newTestEnv(t, opaqueSecret("old-pw", map[string]string{"password": "first"}),
		opaqueSecret("new-pw", map[string]string{"password": "second"}),
		configMap("bundle", map[string]string{"ca.crt": string(ca.pem)}),
		tlsSecret(srcName, tls, map[string]string{annotations.Keystores: "jks", annotations.KeystorePasswordSecret: "old-pw",
			annotations.TruststoreSources: "configmap:bundle"}),
		tlsSecret("other", tls, map[string]string{annotations.Keystores: "jks", annotations.TruststoreSources: "configmap:bundle"}))
	e.reconcile(srcName)
	e.reconcile("other")
	if got := e.r.reader().size(); got != 2 {
		t.Fatalf("%d objects kept, want 2 (old-pw, bundle)", got)
	}
	e.update(srcName, func(s *corev1.Secret) { s.Annotations[annotations.KeystorePasswordSecret] = "new-pw" })
	e.reconcile(srcName)
	if got := e.r.reader().size(); got != 2 {
		t.Fatalf("%d objects kept, want 2 (new-pw, bundle): old-pw must be dropped", got)
	}
	if err := e.c.Delete(context.Background(), e.secret(srcName)); err != nil {
		t.Fatal(err)
	}
	e.reconcile(srcName)
	if got := e.r.reader().size(); got != 1 {
		t.Fatalf("%d objects kept, want 1: the bundle that Secret other still reads", got)
	}
	e.update("other", func(s *corev1.Secret) { delete(s.Annotations, annotations.Keystores) })
	e.reconcile("other")
	if got := e.r.reader().size(); got != 0 {
		t.Fatalf("%d objects kept after nothing reads them", got)
	}
}
