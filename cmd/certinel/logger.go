package main

import (
	"io"

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
