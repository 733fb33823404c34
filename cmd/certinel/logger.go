package main

import (
	"io"
	"slices"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	uzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// newLogger is controller-runtime's zap logger for the --zap-* flags in o,
// writing to w, except that in production mode (the default) it samples
// nothing. controller-runtime's production logger keeps only the first 100
// entries with the same message each second and every 100th after: of
// 1000 "wrote keystores" lines in a burst it kept 109 (TestNewLogger*).
// certinel logs a line per action or bad input, paced by the changes of
// the objects, so its log is the whole record; and the sampler's counters
// alone were 0.45 MB of heap for the life of the process. --zap-devel
// keeps controller-runtime's development logger, which does not sample
// either.
func newLogger(o zap.Options, w io.Writer) logr.Logger {
	if o.Development {
		return zap.New(zap.UseFlagOptions(&o), zap.WriteTo(w))
	}
	level, stacktrace := o.Level, o.StacktraceLevel
	if level == nil {
		level = zapcore.InfoLevel
	}
	if stacktrace == nil {
		stacktrace = zapcore.ErrorLevel
	}
	timeEncoder := o.TimeEncoder
	if timeEncoder == nil {
		timeEncoder = zapcore.RFC3339TimeEncoder
	}
	configure := append([]zap.EncoderConfigOption{func(c *zapcore.EncoderConfig) { c.EncodeTime = timeEncoder }}, o.EncoderConfigOptions...)
	encoder := o.Encoder
	switch {
	case encoder != nil:
	case o.NewEncoder != nil:
		encoder = o.NewEncoder(configure...)
	default:
		config := uzap.NewProductionEncoderConfig()
		for _, f := range configure {
			f(&config)
		}
		encoder = zapcore.NewJSONEncoder(config)
	}
	sink := zapcore.AddSync(w)
	core := zapcore.NewCore(&zap.KubeAwareEncoder{Encoder: encoder}, sink, level)
	return zapr.NewLogger(uzap.New(core, append([]uzap.Option{uzap.ErrorOutput(sink), uzap.AddStacktrace(stacktrace)}, o.ZapOpts...)...))
}

// deferValues returns l with a sink that keeps what WithValues adds and
// hands it to l's sink with each line written (deferredValues).
func deferValues(l logr.Logger) logr.Logger {
	// One more frame between the caller and zap: deferredValues' own.
	return logr.New(&deferredValues{sink: l.WithCallDepth(1).GetSink()})
}

// deferredValues is a logr sink that keeps the key/value pairs WithValues
// adds and passes them, before the line's own, with each line written.
// zapr's WithValues instead has zap encode them at once into a cloned
// encoder with a buffer of its own (1 KiB from zap's pool, never given
// back). controller-runtime calls WithValues twice for every reconcile, and
// most reconciles log nothing: at a cold start with 1000 Secrets those
// buffers were 6% of all that certinel allocated. A line has the same
// fields either way; the values are read when it is written, and the
// values certinel and controller-runtime add do not change.
type deferredValues struct {
	sink   logr.LogSink // initialised, with this sink's frame in its call depth
	values []any
}

// Init does nothing: the sink deferredValues wraps was initialised already.
func (d *deferredValues) Init(logr.RuntimeInfo) {}

func (d *deferredValues) Enabled(level int) bool { return d.sink.Enabled(level) }

func (d *deferredValues) Info(level int, msg string, keysAndValues ...any) {
	d.sink.Info(level, msg, d.with(keysAndValues)...)
}

func (d *deferredValues) Error(err error, msg string, keysAndValues ...any) {
	d.sink.Error(err, msg, d.with(keysAndValues)...)
}

// WithValues copies keysAndValues, as zap's encoding does: a caller may
// reuse its slice.
func (d *deferredValues) WithValues(keysAndValues ...any) logr.LogSink {
	return &deferredValues{sink: d.sink, values: slices.Concat(d.values, keysAndValues)}
}

func (d *deferredValues) WithName(name string) logr.LogSink {
	return &deferredValues{sink: d.sink.WithName(name), values: d.values}
}

func (d *deferredValues) WithCallDepth(depth int) logr.LogSink {
	if s, ok := d.sink.(logr.CallDepthLogSink); ok {
		return &deferredValues{sink: s.WithCallDepth(depth), values: d.values}
	}
	return d
}

// with is the values, then keysAndValues, for one line.
func (d *deferredValues) with(keysAndValues []any) []any {
	if len(d.values) == 0 {
		return keysAndValues
	}
	return append(slices.Clip(d.values), keysAndValues...)
}
