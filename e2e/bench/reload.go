package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
)

func reloadDeployment(name, secret string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: map[string]string{"certinel.io/reload-secrets": secret}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1",
					VolumeMounts: []corev1.VolumeMount{{Name: "tls", MountPath: "/tls"}}}},
					Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}}},
			},
		},
	}
}

// templateHashes maps each Deployment to its pod-template config-hash.
func templateHashes(ctx context.Context, c client.Client) (map[string]string, error) {
	var list appsv1.DeploymentList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, d := range list.Items {
		out[d.Name] = d.Spec.Template.Annotations["certinel.io/config-hash"] + "|" + d.Annotations["certinel.io/config-hash"]
	}
	return out, nil
}

// reloadScenario: n Deployments, each reading its own Secret with
// keystores. One renewal is timed to its rollout (keystore rewrite
// included); then all n Secrets are renewed at once.
func reloadScenario(ctx context.Context, c client.Client, bin, kubeconfig, logDir string, n int, r *strings.Builder) error {
	tlsFor := make([]*framework.TLS, n)
	if _, err := parallel(n, 8, func(i int) error {
		var err error
		tlsFor[i], err = framework.NewTLS(fmt.Sprintf("w%d.example.com", i), framework.SEC1)
		return err
	}); err != nil {
		return err
	}
	secret := func(i int, tls *framework.TLS) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("w%04d-tls", i), Annotations: map[string]string{"certinel.io/keystores": "jks"}},
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": tls.Cert, "tls.key": tls.Key, "ca.crt": tls.CA}}
	}
	if _, err := parallel(n, 16, func(i int) error {
		if err := c.Create(ctx, secret(i, tlsFor[i])); err != nil {
			return err
		}
		return c.Create(ctx, reloadDeployment(fmt.Sprintf("w%04d", i), fmt.Sprintf("w%04d-tls", i)))
	}); err != nil {
		return err
	}
	fmt.Fprintf(r, "reload: %d Deployments, each reading its own TLS Secret with certinel.io/keystores=jks (default --reload-window 1s, --reload-rate 10, --reload-burst 20)\n", n)
	cert, err := framework.StartCertinel(ctx, bin, kubeconfig, logDir+"/certinel-reload.log", extraFlags...)
	if err != nil {
		return err
	}
	defer cert.Stop()
	// Every Deployment gets its baseline, and no pod template is touched.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		h, err := templateHashes(ctx, c)
		if err != nil {
			return err
		}
		done, rolled := 0, 0
		for _, v := range h {
			tmpl, base, _ := strings.Cut(v, "|")
			if base != "" {
				done++
			}
			if tmpl != "" {
				rolled++
			}
		}
		if done >= n {
			fmt.Fprintf(r, "  baselines recorded on all %d Deployments; pod templates rolled by opting in: %d (target 0)\n", n, rolled)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("reload: %d of %d baselines", done, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rss, _ := memory(cert.PID())
	fmt.Fprintf(r, "  certinel RSS with %d Deployments and %d Secrets: %.1f MiB\n", n, n, rss)

	// One renewal, timed to the new pod template.
	renewed, err := framework.NewTLS("w0-renewed.example.com", framework.SEC1)
	if err != nil {
		return err
	}
	before, _ := templateHashes(ctx, c)
	start := time.Now()
	var s corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "w0000-tls"}, &s); err != nil {
		return err
	}
	s.Data["tls.crt"], s.Data["tls.key"] = renewed.Cert, renewed.Key
	if err := c.Update(ctx, &s); err != nil {
		return err
	}
	for {
		h, err := templateHashes(ctx, c)
		if err != nil {
			return err
		}
		if h["w0000"] != before["w0000"] && !strings.HasPrefix(h["w0000"], "|") {
			break
		}
		if time.Since(start) > time.Minute {
			return fmt.Errorf("reload: no rollout after a renewal")
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	time.Sleep(3 * time.Second)
	rolledOne, _ := cert.Metric("certinel_rollouts_total", `result="rolled"`)
	fmt.Fprintf(r, "  one renewal: new pod template %s after the Secret update, keystore rewrite included (target <= window + 250 ms = 1.25 s); rollouts: %.0f (target 1)\n",
		took.Round(time.Millisecond), rolledOne)

	// A renewal storm: every Secret at once.
	start = time.Now()
	if _, err := parallel(n, 16, func(i int) error {
		tls, err := framework.NewTLS(fmt.Sprintf("w%d-storm.example.com", i), framework.SEC1)
		if err != nil {
			return err
		}
		var s corev1.Secret
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: fmt.Sprintf("w%04d-tls", i)}, &s); err != nil {
			return err
		}
		s.Data["tls.crt"], s.Data["tls.key"] = tls.Cert, tls.Key
		return c.Update(ctx, &s)
	}); err != nil {
		return err
	}
	updated := time.Since(start)
	deadline = time.Now().Add(10 * time.Minute)
	for {
		v, _ := cert.Metric("certinel_rollouts_total", `result="rolled"`)
		if v-rolledOne >= float64(n) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	drained := time.Since(start)
	time.Sleep(5 * time.Second)
	rolled, _ := cert.Metric("certinel_rollouts_total", `result="rolled"`)
	held, _ := cert.Metric("certinel_rollouts_total", `result="held-rate-limit"`)
	_, hwm := memory(cert.PID())
	rss, _ = memory(cert.PID())
	fmt.Fprintf(r, "  renewal storm: %d Secrets updated in %s; %.0f rollouts (target %d, no more), drained in %s, %.0f held by the rate limit; RSS %.1f MiB, peak %.1f MiB\n",
		n, updated.Round(time.Millisecond), rolled-rolledOne, n, drained.Round(time.Millisecond), held, rss, hwm)

	// A restart reads every Deployment's Secrets again and rolls nothing.
	templates, err := templateHashes(ctx, c)
	if err != nil {
		return err
	}
	restart, err := restartCertinel(ctx, cert, "reload-deployment", n)
	if err != nil {
		return err
	}
	after, err := templateHashes(ctx, c)
	if err != nil {
		return err
	}
	changed := countChanged(templates, after)
	rss, _ = memory(cert.PID())
	fmt.Fprintf(r, "  restart: %d Deployments reconciled again in %s, %.0f certinel writes, %d pod templates or baselines changed (target 0), %.0f GET requests; RSS %.1f MiB\n",
		n, restart.took.Round(time.Millisecond), restart.writes, changed, restart.gets, rss)
	return nil
}
