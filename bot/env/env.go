// Package env reads settings from an environment (name → value) for the
// packages that own them: each adapter declares and reads its own variables
// (telegram.ConfigVars, discord.ConfigVars), the composition root
// (bot/app/config) the rest, with the same conventions and error lines.
package env

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/newsbot/newsbot/bot"
)

// Var documents one environment variable, for .env.example and README.
type Var struct {
	Name, Default, Doc string
}

// Reader reads variables from an environment and collects the values that do
// not parse, each reported naming its variable. Unset and empty variables
// take their defaults.
type Reader struct {
	vars map[string]string
	errs []error
}

// NewReader reads vars (name → value).
func NewReader(vars map[string]string) *Reader { return &Reader{vars: vars} }

// String is the variable's value without surrounding space; "" when unset.
func (r *Reader) String(name string) string { return strings.TrimSpace(r.vars[name]) }

// Int is a whole number, def when unset.
func (r *Reader) Int(name string, def int) int {
	v := r.String(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.Bad(name, v, "not a whole number")
	}
	return n
}

// Float is a number, def when unset.
func (r *Reader) Float(name string, def float64) float64 {
	v := r.String(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		r.Bad(name, v, "not a number")
	}
	return f
}

// Bool is true or false (as strconv.ParseBool reads them), def when unset.
func (r *Reader) Bool(name string, def bool) bool {
	v := r.String(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.Bad(name, v, "want true or false")
	}
	return b
}

// Duration is a Go duration (10m, 1h), def when unset.
func (r *Reader) Duration(name string, def time.Duration) time.Duration {
	v := r.String(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.Bad(name, v, "not a duration; write it like 10m or 1h")
	}
	return d
}

// Bad records that value of name does not parse, and why.
func (r *Reader) Bad(name, value, why string) {
	r.errs = append(r.errs, Invalid(name, value, why))
}

// Err is every problem found, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// Invalid is the error for a value a variable may not take: it names the
// variable and quotes the value, clipped.
func Invalid(name, value, why string) error {
	return fmt.Errorf("%s=%q: %s", name, bot.Clip(value), why)
}

// HTTPURL reports whether s is an absolute http or https URL with a host.
func HTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
