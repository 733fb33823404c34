package reload

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func secretVolume(name string, opt *bool) corev1.Volume {
	return corev1.Volume{Name: "v-" + name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name, Optional: opt}}}
}

func configMapVolume(name string, opt *bool) corev1.Volume {
	return corev1.Volume{Name: "v-" + name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: opt}}}
}

func secretEnv(name, key string, opt *bool) corev1.EnvVar {
	return corev1.EnvVar{Name: "E", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: opt}}}
}

func configMapEnv(name, key string, opt *bool) corev1.EnvVar {
	return corev1.EnvVar{Name: "E", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: opt}}}
}

func secretEnvFrom(name string, opt *bool) corev1.EnvFromSource {
	return corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: opt}}
}

func configMapEnvFrom(name string, opt *bool) corev1.EnvFromSource {
	return corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: opt}}
}

func TestReferences(t *testing.T) {
	yes, no := ptr.To(true), ptr.To(false)
	tests := map[string]struct {
		spec Spec
		pod  corev1.PodSpec
		want []Ref
	}{
		"nothing": {},
		"without auto the pod template does not count": {
			spec: Spec{Secrets: []Ref{secret("listed", "")}},
			pod:  corev1.PodSpec{Volumes: []corev1.Volume{secretVolume("mounted", nil)}},
			want: []Ref{secret("listed", "")},
		},
		"volumes": {
			spec: Spec{Auto: true},
			pod: corev1.PodSpec{Volumes: []corev1.Volume{
				secretVolume("tls", nil), configMapVolume("config", nil), secretVolume("maybe", yes), configMapVolume("required", no),
				{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			}},
			want: []Ref{configMap("config", ""), configMap("required", ""), optional(secret("maybe", "")), secret("tls", "")},
		},
		"projected volumes": {
			spec: Spec{Auto: true},
			pod: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "all", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Optional: yes,
						Items: []corev1.KeyToPath{{Key: "tls.crt", Path: "cert"}}}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}},
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
					{DownwardAPI: &corev1.DownwardAPIProjection{}},
				}}}}}},
			want: []Ref{configMap("c", ""), optional(secret("s", ""))},
		},
		"env valueFrom is per key, envFrom whole": {
			spec: Spec{Auto: true},
			pod: corev1.PodSpec{Containers: []corev1.Container{{
				Env: []corev1.EnvVar{
					{Name: "PLAIN", Value: "x"},
					{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					secretEnv("db", "password", nil), configMapEnv("settings", "level", yes),
				},
				EnvFrom: []corev1.EnvFromSource{secretEnvFrom("env", nil), configMapEnvFrom("envcm", yes)},
			}}},
			want: []Ref{optional(configMap("envcm", "")), optional(configMap("settings", "level")), secret("db", "password"), secret("env", "")},
		},
		"init and ephemeral containers count": {
			spec: Spec{Auto: true},
			pod: corev1.PodSpec{
				InitContainers: []corev1.Container{{Env: []corev1.EnvVar{secretEnv("init", "k", nil)}}},
				EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
					EnvFrom: []corev1.EnvFromSource{configMapEnvFrom("debug", nil)}}}},
			},
			want: []Ref{configMap("debug", ""), secret("init", "k")},
		},
		"explicit references are added to auto ones": {
			spec: Spec{Auto: true, Secrets: []Ref{secret("extra", "ca.crt")}, ConfigMaps: []Ref{configMap("shared", "app.yaml")}},
			pod:  corev1.PodSpec{Volumes: []corev1.Volume{secretVolume("tls", nil)}},
			want: []Ref{configMap("shared", "app.yaml"), secret("extra", "ca.crt"), secret("tls", "")},
		},
		"the same key twice is one reference, optional only if both are": {
			spec: Spec{Auto: true},
			pod: corev1.PodSpec{
				InitContainers: []corev1.Container{{Env: []corev1.EnvVar{secretEnv("db", "password", yes)}}},
				Containers:     []corev1.Container{{Env: []corev1.EnvVar{secretEnv("db", "password", nil), secretEnv("db", "user", yes), secretEnv("db", "user", yes)}}},
			},
			want: []Ref{secret("db", "password"), optional(secret("db", "user"))},
		},
		"a whole object absorbs its keys": {
			spec: Spec{Auto: true, Secrets: []Ref{secret("tls", "ca.crt")}},
			pod: corev1.PodSpec{
				Volumes:    []corev1.Volume{secretVolume("tls", yes)},
				Containers: []corev1.Container{{Env: []corev1.EnvVar{secretEnv("tls", "tls.key", yes), configMapEnv("tls", "x", nil)}}},
			},
			want: []Ref{configMap("tls", "x"), secret("tls", "")},
		},
		"a whole object is optional only if its absorbed keys are": {
			spec: Spec{Auto: true},
			pod: corev1.PodSpec{
				Volumes:    []corev1.Volume{secretVolume("a", yes), secretVolume("b", yes)},
				Containers: []corev1.Container{{Env: []corev1.EnvVar{secretEnv("a", "k", nil), secretEnv("b", "k", yes)}}},
			},
			want: []Ref{secret("a", ""), optional(secret("b", ""))},
		},
		"an explicit reference is never optional": {
			spec: Spec{Auto: true, ConfigMaps: []Ref{configMap("c", "")}},
			pod:  corev1.PodSpec{Volumes: []corev1.Volume{configMapVolume("c", yes)}},
			want: []Ref{configMap("c", "")},
		},
		"references without a name are skipped": {
			spec: Spec{Auto: true},
			pod: corev1.PodSpec{
				Volumes:    []corev1.Volume{secretVolume("", nil), configMapVolume("", nil)},
				Containers: []corev1.Container{{EnvFrom: []corev1.EnvFromSource{secretEnvFrom("", nil), {Prefix: "P_"}}}},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := Spec{Secrets: append([]Ref(nil), tc.spec.Secrets...), ConfigMaps: append([]Ref(nil), tc.spec.ConfigMaps...), Auto: tc.spec.Auto}
			got := References(tc.spec, tc.pod)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("References =\n%v, want\n%v", got, tc.want)
			}
			if !reflect.DeepEqual(spec, tc.spec) {
				t.Errorf("References changed the spec: %+v, was %+v", tc.spec, spec)
			}
			// The order of the pod template does not matter.
			reversed := tc.pod
			reversed.Volumes = reverse(tc.pod.Volumes)
			reversed.Containers = reverse(tc.pod.Containers)
			reversed.InitContainers, reversed.Containers = reversed.Containers, reverse(tc.pod.InitContainers)
			if again := References(tc.spec, reversed); !reflect.DeepEqual(again, got) {
				t.Errorf("reordered pod template gives %v, want %v", again, got)
			}
		})
	}
}

func reverse[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestRefString(t *testing.T) {
	for r, want := range map[Ref]string{
		secret("tls", ""):                 "secret:tls",
		configMap("cfg", "app.yaml"):      "configmap:cfg/app.yaml",
		optional(secret("tls", "ca.crt")): "secret:tls/ca.crt",
	} {
		if got := r.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", r, got, want)
		}
	}
}
