package controllers

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/keystore"
)

// inputs reads everything the outputs depend on besides the spec.
func (r *KeystoreReconciler) inputs(ctx context.Context, src *corev1.Secret, spec annotations.KeystoreSpec) (keystore.Inputs, error) {
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
	if in.Password, err = r.password(ctx, src.Namespace, spec.Password); err != nil {
		return in, err
	}
	for _, ref := range spec.TruststoreSources {
		data, err := r.sourceData(ctx, ref)
		if err != nil {
			return in, err
		}
		in.Sources = append(in.Sources, keystore.Source{Ref: ref, Data: data})
	}
	return in, nil
}

func (r *KeystoreReconciler) password(ctx context.Context, namespace string, p annotations.Password) (string, error) {
	switch {
	case p.HasLiteral:
		return p.Literal, nil
	case p.SecretName == "":
		return annotations.DefaultPassword, nil
	}
	var s corev1.Secret
	err := r.liveData.get(ctx, r.Client, r.Live, types.NamespacedName{Namespace: namespace, Name: p.SecretName}, &s)
	if apierrors.IsNotFound(err) {
		return "", badinput.Errorf(badinput.MissingPasswordSecret, "password Secret %s/%s (from %s) does not exist", namespace, p.SecretName, annotations.KeystorePasswordSecret)
	} else if err != nil {
		return "", err
	}
	pw, ok := s.Data[p.SecretKey]
	if !ok {
		return "", badinput.Errorf(badinput.MissingPasswordSecret, "password Secret %s/%s has no data key %q", namespace, p.SecretName, p.SecretKey)
	}
	if len(pw) == 0 {
		return "", badinput.Errorf(badinput.InvalidPassword, "password Secret %s/%s key %q is empty", namespace, p.SecretName, p.SecretKey)
	}
	return string(pw), nil
}

func (r *KeystoreReconciler) sourceData(ctx context.Context, ref annotations.SourceRef) ([]byte, error) {
	if len(r.Namespaces) > 0 && !slices.Contains(r.Namespaces, ref.Namespace) {
		return nil, badinput.Errorf(badinput.MissingTruststoreSource,
			"truststore source %s is in namespace %s, which certinel does not watch (--namespaces=%s)", ref, ref.Namespace, strings.Join(r.Namespaces, ","))
	}
	key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	var data []byte
	var found bool
	var err error
	if ref.Kind == annotations.ConfigMapSource {
		var cm corev1.ConfigMap
		if err = r.liveData.get(ctx, r.Client, r.Live, key, &cm); err == nil {
			var s string
			if s, found = cm.Data[ref.Key]; found {
				data = []byte(s)
			} else {
				data, found = cm.BinaryData[ref.Key]
			}
		}
	} else {
		var s corev1.Secret
		if err = r.liveData.get(ctx, r.Client, r.Live, key, &s); err == nil {
			data, found = s.Data[ref.Key]
		}
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, badinput.Errorf(badinput.MissingTruststoreSource, "truststore source %s does not exist", ref)
	case err != nil:
		return nil, err
	case !found:
		return nil, badinput.Errorf(badinput.MissingSourceKey, "truststore source %s has no data key %q", ref, ref.Key)
	}
	return data, nil
}
