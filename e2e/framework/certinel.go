package framework

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// BuildCertinel builds the certinel binary into dir and returns its path.
func BuildCertinel(root, dir string) (string, error) {
	out := filepath.Join(dir, "certinel")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/certinel")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build certinel: %w: %s", err, b)
	}
	return out, nil
}

// Certinel is a running certinel process.
type Certinel struct {
	Binary     string
	Kubeconfig string
	Args       []string
	LogPath    string
	MetricsURL string
	ProbeURL   string

	cmd *exec.Cmd
}

// StartCertinel starts the certinel manager as its own process and waits
// until /readyz answers.
func StartCertinel(ctx context.Context, binary, kubeconfig, logPath string, args ...string) (*Certinel, error) {
	c := &Certinel{Binary: binary, Kubeconfig: kubeconfig, Args: args, LogPath: logPath}
	return c, c.Start(ctx)
}

// Start (re)starts the process on fresh ports.
func (c *Certinel) Start(ctx context.Context) error {
	metrics, err := freePort()
	if err != nil {
		return err
	}
	probe, err := freePort()
	if err != nil {
		return err
	}
	c.MetricsURL = "http://" + metrics + "/metrics"
	c.ProbeURL = "http://" + probe
	log, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append([]string{"--kubeconfig=" + c.Kubeconfig, "--metrics-bind-address=" + metrics, "--health-probe-bind-address=" + probe}, c.Args...)
	c.cmd = exec.Command(c.Binary, args...)
	c.cmd.Stdout, c.cmd.Stderr = log, log
	if err := c.cmd.Start(); err != nil {
		return err
	}
	go func() { _ = c.cmd.Wait(); log.Close() }()
	return c.waitReady(ctx)
}

func (c *Certinel) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		if resp, err := http.Get(c.ProbeURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if c.cmd.ProcessState != nil {
			return fmt.Errorf("certinel exited: %s; log: %s", c.cmd.ProcessState, c.LogPath)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("certinel not ready: %w; log: %s", ctx.Err(), c.LogPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM and waits for the process to exit.
func (c *Certinel) Stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(20 * time.Second)
	for c.cmd.ProcessState == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
	}
}

// PID is the process id.
func (c *Certinel) PID() int { return c.cmd.Process.Pid }

// Metric returns the sum of all samples of a metric family whose labels
// contain every given "name=\"value\"" matcher.
func (c *Certinel) Metric(name string, matchers ...string) (float64, error) {
	resp, err := http.Get(c.MetricsURL)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return sumMetric(resp.Body, name, matchers...)
}

func sumMetric(r io.Reader, name string, matchers ...string) (float64, error) {
	var sum float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, m := range matchers {
			ok = ok && strings.Contains(line, m)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, sc.Err()
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
