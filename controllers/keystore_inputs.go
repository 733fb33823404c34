package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/keystore"
	"github.com/certinel/certinel/pkg/pki"
)

// keystoreInputs reads everything the outputs of src depend on besides the
// spec. Other objects are read through rd, which enforces consent and
// keeps only what it parsed. The reload controller uses it too, to tell
// whether the keystores are up to date.
func keystoreInputs(ctx context.Context, rd *sourceReads, src *corev1.Secret, spec annotations.KeystoreSpec) (keystore.Inputs, error) {
	in := keystore.Inputs{
		Spec:    spec,
		TLSCert: src.Data[annotations.TLSCertKey],
		TLSKey:  src.Data[annotations.TLSKeyKey],
		CACert:  src.Data[annotations.CACertKey],
	}
	if len(in.TLSCert) == 0 {
		return in, badinput.Errorf(badinput.NoCertificate, "the Secret has no %s; certinel builds keystores from a TLS Secret (tls.crt, tls.key, optional ca.crt)", annotations.TLSCertKey)
	}
	if len(spec.Formats) == 0 {
		return in, nil // cert-info alone reads no password and no truststore source
	}
	if len(in.TLSKey) == 0 {
		return in, badinput.Errorf(badinput.NoPrivateKey, "the Secret has no %s; a keystore needs the private key", annotations.TLSKeyKey)
	}
	var err error
	if in.Password, err = storePassword(ctx, rd, src.Namespace, spec.Password); err != nil {
		return in, err
	}
	unique := map[[32]byte]bool{}
	for _, ref := range spec.TruststoreSources {
		certs, err := rd.certificates(ctx, ref, "truststore source "+ref.String(), badinput.MissingTruststoreSource)
		if err != nil {
			return in, err
		}
		// Stop reading, and holding, sources once the truststore is over
		// its limit (counting each certificate once).
		for _, c := range certs {
			unique[pki.Fingerprint(c)] = true
		}
		if len(unique) > pki.MaxBundle {
			return in, badinput.Errorf(badinput.BundleTooLarge,
				"the truststore sources hold more than %d certificates (at %s); certinel writes at most %d per truststore", pki.MaxBundle, ref, pki.MaxBundle)
		}
		in.Sources = append(in.Sources, keystore.Source{Ref: ref, Certs: certs})
	}
	return in, nil
}

// storePassword is the store password p names: a literal, the default, or
// the value of a password Secret in namespace.
func storePassword(ctx context.Context, rd *sourceReads, namespace string, p annotations.Password) (string, error) {
	switch {
	case p.HasLiteral:
		return p.Literal, nil
	case p.SecretName == "":
		return p.Or(), nil
	}
	ref := annotations.SourceRef{Kind: annotations.SecretSource, Namespace: namespace, Name: p.SecretName, Key: p.SecretKey}
	return rd.password(ctx, ref, fmt.Sprintf("password Secret %s/%s (from %s)", namespace, p.SecretName, annotations.KeystorePasswordSecret))
}
