package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/keystore"
	"github.com/certinel/certinel/pkg/ownership"
)

const keystoreController = "keystores"

// managedByLabel marks the target Secrets certinel creates.
const managedByLabel, managedBy = "app.kubernetes.io/managed-by", "certinel"

// Event reasons of the keystore controller besides the badinput reasons.
const (
	ReasonKeystoresUpdated = "KeystoresUpdated"
	ReasonKeystoresRemoved = "KeystoresRemoved"
)

// KeystoreReconciler writes Java keystores, truststores and certificate
// descriptions for Secrets annotated with certinel.io/keystores or
// certinel.io/cert-info (section 1 of the annotation contract).
type KeystoreReconciler struct {
	Client   client.Client // cached reads, writes
	Live     client.Reader // reads of objects whose data the cache leaves out
	Recorder events.EventRecorder
	// Namespaces are the namespaces certinel watches; empty means all.
	Namespaces []string

	// plaintextWarned holds the names of Secrets already warned that their
	// store password is in clear, so the Warning is given once per Secret
	// (writes happen only on input changes, so a restart does not repeat it).
	plaintextWarned sync.Map
	// lastBadInput holds, per Secret, the versions of the objects whose
	// inputs last gave bad input.
	lastBadInput sync.Map
	// lastWritten holds, per Secret, the versions of the objects (the
	// Secret, its output Secret, the objects it reads) right after certinel
	// wrote the outputs. The watch event of that write is then not worked
	// on again: a cold start builds every keystore once, not twice.
	lastWritten sync.Map
	// readerIndex finds the Secrets that read a source (set with the manager).
	readerIndex *readerIndex
	// Sources reads referenced objects; one reader is shared by every
	// controller (made here on first use when none is given).
	Sources     *SourceReader
	sourcesOnce sync.Once
}

// Reconcile brings the outputs of one annotated Secret up to date.
func (r *KeystoreReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rd := r.reader().begin(keystoreController+":"+req.String(), req.Namespace, "a truststore source")
	defer rd.done() // what this Secret no longer reads is released
	var src corev1.Secret
	if err := r.Client.Get(ctx, req.NamespacedName, &src); err != nil || src.DeletionTimestamp != nil {
		if apierrors.IsNotFound(err) {
			r.plaintextWarned.Delete(req.NamespacedName)
			r.lastBadInput.Delete(req.NamespacedName)
			r.lastWritten.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	warnCompat(ctx, r.Recorder, keystoreController, &src)
	spec, err := annotations.ParseKeystoreSpec(src.Namespace, src.Annotations)
	if err != nil {
		return r.invalid(ctx, &src, "", err)
	}
	if !spec.Enabled() {
		r.lastBadInput.Delete(req.NamespacedName)
		r.lastWritten.Delete(req.NamespacedName)
		if isTarget(&src) {
			return ctrl.Result{}, nil // a target's outputs belong to its source
		}
		return r.invalid(ctx, &src, "", r.removeStale(ctx, &src, nil))
	}
	in, err := keystoreInputs(ctx, rd, &src, spec)
	if err != nil {
		return r.invalid(ctx, &src, "", err)
	}
	out, err := r.outputSecret(ctx, &src, spec)
	if err != nil {
		return r.invalid(ctx, &src, "", err)
	}
	// Bad input is not worked on again while no object it came from changed:
	// a hostile Secret costs one parse per change, not one per event.
	version := inputVersions(&src, out, rd)
	if v, ok := r.lastBadInput.Load(req.NamespacedName); ok && v == version {
		return ctrl.Result{}, nil
	}
	// The event of certinel's own write is not worked on again: a cold
	// start builds every keystore once, not twice.
	if v, ok := r.lastWritten.Load(req.NamespacedName); !ok || v != version {
		r.lastWritten.Delete(req.NamespacedName)
		wrote, err := r.build(ctx, &src, out, spec, in)
		if err != nil {
			return r.invalid(ctx, &src, version, err)
		}
		if wrote {
			r.lastWritten.Store(req.NamespacedName, inputVersions(&src, out, rd))
		}
	}
	r.lastBadInput.Delete(req.NamespacedName)
	// Make before break: former outputs go only once the current one is written.
	return r.invalid(ctx, &src, "", r.removeStale(ctx, &src, out))
}

// inputVersions identifies everything the outputs of src depend on: the
// versions of src, of the Secret they go to and of every object read.
func inputVersions(src, out *corev1.Secret, rd *sourceReads) string {
	return strings.Join(append([]string{src.ResourceVersion, out.ResourceVersion}, rd.versions()...), ",")
}

// build writes the outputs of src into out unless out holds them already,
// and reports whether it wrote.
func (r *KeystoreReconciler) build(ctx context.Context, src, out *corev1.Secret, spec annotations.KeystoreSpec, in keystore.Inputs) (bool, error) {
	plan, err := keystore.NewPlan(in)
	if err != nil || ownership.Keystores.UpToDate(out, plan.Fingerprint, plan.Keys) {
		return false, err
	}
	if c := keystoreConflicts(src, out, plan.Keys); len(c) > 0 {
		return false, badinput.Errorf(badinput.DataKeyConflict,
			"Secret %s already has data key(s) %s that certinel did not write, or that somebody changed since; rename or remove them, or set %s to write elsewhere",
			out.Name, strings.Join(c, ", "), annotations.KeystoresTarget)
	}
	data, err := plan.Render()
	if err != nil {
		return false, err
	}
	if err := checkSize(out, src.Name, plan.Fingerprint, data); err != nil {
		return false, err
	}
	if err := r.write(ctx, out, plan.Fingerprint, data); err != nil {
		return false, err
	}
	r.wrote(ctx, src, out, plan.Keys, spec)
	return true, nil
}

// reader is the reader of referenced objects, made on first use.
func (r *KeystoreReconciler) reader() *SourceReader {
	r.sourcesOnce.Do(func() {
		if r.Sources == nil {
			r.Sources = NewSourceReader(r.Client, r.Live, r.Namespaces)
		}
	})
	return r.Sources
}

// checkSize refuses outputs that would make out larger than a Secret may
// be, naming the sizes and the ways out, instead of a write that the API
// server refuses and a retry that never ends.
func checkSize(out *corev1.Secret, srcName, fp string, data map[string][]byte) error {
	after := patchBase(out) // all that Apply and Size read
	ownership.Keystores.Apply(after, fp, data)
	size := ownership.Size(after)
	if size <= corev1.MaxSecretSize {
		return nil
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(data)) {
		parts = append(parts, fmt.Sprintf("%s %d KiB", k, (len(data[k])+1023)/1024))
	}
	way := "ask for one format in " + annotations.Keystores + " or drop " + annotations.CertInfo
	if out.Name == srcName {
		way += ", or write the outputs into a Secret of their own with " + annotations.KeystoresTarget
	}
	return badinput.Errorf(badinput.OutputTooLarge,
		"the outputs (%s) would make Secret %s %d KiB, over the %d KiB a Secret may hold; %s",
		strings.Join(parts, ", "), out.Name, (size+1023)/1024, corev1.MaxSecretSize/1024, way)
}

// outputSecret returns the Secret the outputs go to: the source itself, the
// existing target, or a new target (not yet created, empty UID).
func (r *KeystoreReconciler) outputSecret(ctx context.Context, src *corev1.Secret, spec annotations.KeystoreSpec) (*corev1.Secret, error) {
	if spec.Target == "" {
		return src, nil
	}
	if spec.Target == src.Name {
		return nil, badinput.Errorf(badinput.InvalidAnnotation, "%s names the Secret itself; remove it to write into this Secret", annotations.KeystoresTarget)
	}
	var target corev1.Secret
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: src.Namespace, Name: spec.Target}, &target)
	if apierrors.IsNotFound(err) {
		return newTarget(src, spec.Target), nil
	} else if err != nil {
		return nil, err
	}
	if isTrimmed(&target) && r.Live != nil {
		// A Secret the cache holds without its data (it carries no certinel
		// annotation) is read whole before anything is written into it.
		if err := r.Live.Get(ctx, client.ObjectKeyFromObject(&target), &target); err != nil {
			return nil, err
		}
	}
	if !controlledBy(&target, src) {
		return nil, badinput.Errorf(badinput.TargetConflict,
			"target Secret %s already exists and was not created by certinel for this Secret; pick another %s or delete it", spec.Target, annotations.KeystoresTarget)
	}
	return &target, nil
}

func newTarget(src *corev1.Secret, name string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: src.Namespace,
			Labels:    map[string]string{managedByLabel: managedBy},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Secret", Name: src.Name, UID: src.UID, Controller: ptr.To(true),
			}},
		},
		Type: corev1.SecretTypeOpaque,
	}
}

// isTarget reports a Secret that holds another Secret's outputs: controlled
// by a Secret, created by certinel (its label) or holding certinel's
// outputs (a user may drop the label), and not asking for outputs of its
// own. Other controllers make Secrets controlled by Secrets too (OpenShift's
// dockercfg Secrets), and a user's annotated TLS Secret may be one of them;
// those are sources, never targets.
func isTarget(s *corev1.Secret) bool {
	ref := metav1.GetControllerOf(s)
	if ref == nil || ref.Kind != "Secret" || ref.APIVersion != "v1" {
		return false
	}
	if !createdByCertinel(s) && !hasOutputs(s) {
		return false
	}
	return !asksForOutputs(s)
}

func createdByCertinel(s *corev1.Secret) bool { return s.Labels[managedByLabel] == managedBy }

// asksForOutputs reports a Secret whose annotations ask for keystores or
// cert-info; an invalid value counts as asking, so the user hears of it.
func asksForOutputs(s *corev1.Secret) bool {
	spec, err := annotations.ParseKeystoreSpec(s.Namespace, s.Annotations)
	return err != nil || spec.Enabled()
}

func controlledBy(obj, owner metav1.Object) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == owner.GetUID()
}

// write creates or patches out so it holds data. A data key that somebody
// replaced since certinel wrote it is left as it is and released.
func (r *KeystoreReconciler) write(ctx context.Context, out *corev1.Secret, fp string, data map[string][]byte) error {
	released := ownership.Keystores.Replaced(out)
	if out.UID == "" {
		ownership.Keystores.Apply(out, fp, data)
		return r.account(out, "create", released, r.Client.Create(ctx, out))
	}
	base := patchBase(out)
	ownership.Keystores.Apply(out, fp, data)
	return r.account(out, "patch", released, patchSecret(ctx, r.Client, out, base))
}

// account accounts for one write of obj: the metrics, the Event for the
// data keys it released, and an error that retrying cannot fix turned into
// bad input.
func (r *KeystoreReconciler) account(obj *corev1.Secret, verb string, released []string, err error) error {
	if err := recordWrite(keystoreController, verb, "Secret "+obj.Name, err); err != nil {
		return err
	}
	if len(released) > 0 && verb != "delete" {
		r.event(obj, corev1.EventTypeWarning, badinput.DataKeyReleased, "Release", fmt.Sprintf(
			"data key(s) %s changed since certinel wrote them; certinel left them as they are and no longer manages them", strings.Join(released, ", ")))
	}
	return nil
}

// removeStale removes the outputs of src from every Secret but current (nil
// when src asks for no outputs): from src itself when the outputs moved to a
// target, and from targets it no longer names. A target certinel created
// that is left empty is deleted; one that somebody added data to is kept
// and released.
func (r *KeystoreReconciler) removeStale(ctx context.Context, src *corev1.Secret, current *corev1.Secret) error {
	if current != src && hasOutputs(src) {
		if err := r.write(ctx, src, "", nil); err != nil {
			return err
		}
		r.event(src, corev1.EventTypeNormal, ReasonKeystoresRemoved, "Remove", "removed the data keys certinel wrote, as the annotations no longer ask for them")
	}
	var targets corev1.SecretList
	if err := r.Client.List(ctx, &targets, client.InNamespace(src.Namespace), client.MatchingFields{ownerIndex: src.Name}); err != nil {
		return err
	}
	for i := range targets.Items {
		t := &targets.Items[i]
		if (current != nil && t.Name == current.Name) || !controlledBy(t, src) || !isTarget(t) || !hasOutputs(t) {
			continue
		}
		released := ownership.Keystores.Replaced(t)
		base := patchBase(t)
		ownership.Keystores.Apply(t, "", nil)
		// Only a Secret certinel created (its label) is deleted when empty,
		// or released from its source; any other keeps all but the outputs.
		var err error
		if createdByCertinel(t) && len(t.Data) == 0 {
			err = r.account(t, "delete", nil, client.IgnoreNotFound(r.Client.Delete(ctx, t, client.Preconditions{UID: &t.UID, ResourceVersion: &t.ResourceVersion})))
		} else {
			if createdByCertinel(t) {
				t.OwnerReferences = slices.DeleteFunc(t.OwnerReferences, func(ref metav1.OwnerReference) bool { return ref.UID == src.UID })
			}
			err = r.account(t, "patch", released, patchSecret(ctx, r.Client, t, base))
		}
		if err != nil {
			return err
		}
		r.event(src, corev1.EventTypeNormal, ReasonKeystoresRemoved, "Remove", fmt.Sprintf("removed certinel's outputs from former target Secret %s", t.Name))
	}
	return nil
}

func hasOutputs(s *corev1.Secret) bool {
	_, fp := s.Annotations[ownership.Keystores.FingerprintAnnotation]
	return fp || len(ownership.Keystores.Owned(s)) > 0
}

func (r *KeystoreReconciler) wrote(ctx context.Context, src, out *corev1.Secret, keys []string, spec annotations.KeystoreSpec) {
	msg := fmt.Sprintf("wrote %s", strings.Join(keys, ", "))
	if out != src {
		msg += " into Secret " + out.Name
		r.event(out, corev1.EventTypeNormal, ReasonKeystoresUpdated, "Write", msg+" from Secret "+src.Name)
	}
	r.event(src, corev1.EventTypeNormal, ReasonKeystoresUpdated, "Write", msg)
	if spec.Password.HasLiteral && len(spec.Formats) > 0 && r.firstPlaintextWarning(src) {
		r.event(src, corev1.EventTypeWarning, badinput.PlaintextPassword, "Write",
			fmt.Sprintf("the store password is in clear in annotation %s; put it in a Secret and use %s", annotations.PasswordKey(src.Annotations), annotations.KeystorePasswordSecret))
	}
	logf.FromContext(ctx).Info("wrote keystores", "output", out.Name, "keys", keys)
}

// firstPlaintextWarning reports whether src has not yet been warned about a
// password in clear, and records that it now has.
func (r *KeystoreReconciler) firstPlaintextWarning(src *corev1.Secret) bool {
	_, warned := r.plaintextWarned.LoadOrStore(client.ObjectKeyFromObject(src), struct{}{})
	return !warned
}

// invalid reports bad input on src and stops until the input changes; any
// other error (nil included) is returned for a retry. version identifies
// the inputs that gave the bad input ("" when not known), so that the same
// inputs are not worked on again.
func (r *KeystoreReconciler) invalid(ctx context.Context, src *corev1.Secret, version string, err error) (ctrl.Result, error) {
	if _, bad := badinput.As(err); bad && version != "" {
		r.lastBadInput.Store(client.ObjectKeyFromObject(src), version)
	}
	return reportInvalid(ctx, r.Recorder, keystoreController, src, err)
}

func (r *KeystoreReconciler) event(obj *corev1.Secret, eventType, reason, action, note string) {
	emit(r.Recorder, obj, eventType, reason, action, note)
}
