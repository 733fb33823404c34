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

// BuildCertinel builds the certinel binary into dir, as the Dockerfile
// builds the image's (static, no libc, stripped), and returns its path: the
// tests and make bench's figures are those of the binary that ships.
func BuildCertinel(root, dir string) (string, error) {
	out := filepath.Join(dir, "certinel")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/certinel")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
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

	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited
	exitErr error         // what Wait returned; read only after exited is closed
}

// httpClient bounds every request to certinel, so a port that never
// answers fails a test instead of hanging it.
var httpClient = &http.Client{Timeout: 5 * time.Second}

// StartCertinel starts the certinel manager as its own process and waits
// until /readyz answers.
func StartCertinel(ctx context.Context, binary, kubeconfig, logPath string, args ...string) (*Certinel, error) {
	c := &Certinel{Binary: binary, Kubeconfig: kubeconfig, Args: args, LogPath: logPath}
	return c, c.Start(ctx)
}

// Start (re)starts the process on fresh ports. A port found free can be
// taken by another process before certinel binds it (the envtest suite and
// other tests run in parallel), so a start whose process exits before it is
// ready is tried again on new ports.
func (c *Certinel) Start(ctx context.Context) error {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = c.start(ctx); err == nil || !c.hasExited() {
			return err
		}
	}
	return err
}

func (c *Certinel) start(ctx context.Context) error {
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
		log.Close()
		return err
	}
	exited, cmd := make(chan struct{}), c.cmd
	c.exited = exited
	go func() {
		c.exitErr = cmd.Wait()
		log.Close()
		close(exited)
	}()
	return c.waitReady(ctx)
}

func (c *Certinel) hasExited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

func (c *Certinel) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		if resp, err := httpClient.Get(c.ProbeURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.exited:
			return fmt.Errorf("certinel exited before it was ready: %v; log: %s", c.exitErr, c.LogPath)
		case <-ctx.Done():
			return fmt.Errorf("certinel not ready: %w; log: %s", ctx.Err(), c.LogPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM and waits for the process to exit; after 20 seconds it
// kills it.
func (c *Certinel) Stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// Kill sends SIGKILL, as a node failure or the OOM killer would: the
// process gets no chance to finish its work or to release the leader Lease.
// It returns once the process is gone.
func (c *Certinel) Kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// Probe returns the HTTP status of a health probe path ("/healthz",
// "/readyz").
func (c *Certinel) Probe(path string) (int, error) {
	resp, err := httpClient.Get(c.ProbeURL + path)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// PID is the process id.
func (c *Certinel) PID() int { return c.cmd.Process.Pid }

// Metric returns the sum of all samples of a metric family whose labels
// contain every given "name=\"value\"" matcher.
func (c *Certinel) Metric(name string, matchers ...string) (float64, error) {
	m, err := c.Scrape()
	if err != nil {
		return 0, err
	}
	return m.Sum(name, matchers...)
}

// Metrics is one scrape of certinel's /metrics, to read several figures of
// one moment.
type Metrics string

// Scrape reads certinel's /metrics once.
func (c *Certinel) Scrape() (Metrics, error) {
	resp, err := httpClient.Get(c.MetricsURL)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Metrics(b), err
}

// Sum is the sum of all samples of a metric family whose labels contain
// every given "name=\"value\"" matcher.
func (m Metrics) Sum(name string, matchers ...string) (float64, error) {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(string(m)))
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
