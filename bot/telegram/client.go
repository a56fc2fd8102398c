package telegram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// The library puts the token in every request URL, and a transport error
// (*url.Error) prints that URL. Every error that leaves this package passes
// through redactor.err, and every request through ctxClient, which also
// gives the library's context-free calls a context.

// redactor removes the token from error texts.
type redactor struct{ token string }

const tokenPlaceholder = "<token>"

func (r redactor) string(s string) string {
	if r.token == "" {
		return s
	}
	for _, form := range []string{r.token, url.PathEscape(r.token), url.QueryEscape(r.token)} {
		s = strings.ReplaceAll(s, form, tokenPlaceholder)
	}
	return s
}

// err returns err with the token removed from its text. The Bot API's own
// answers (*tgbotapi.Error) are kept as they are, for errors.As; transport
// errors are replaced by a redactedError that unwraps to the cause behind the
// URL, so errors.Is(err, context.Canceled) and net.Error timeouts still work.
func (r redactor) err(err error) error {
	if err == nil {
		return nil
	}
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) && !strings.Contains(err.Error(), r.token) {
		return err
	}
	var already *redactedError
	if errors.As(err, &already) && !strings.Contains(err.Error(), r.token) {
		return err
	}
	cause := err
	var uerr *url.Error
	for errors.As(cause, &uerr) {
		cause = uerr.Err
	}
	if cause != nil && strings.Contains(cause.Error(), r.token) {
		cause = nil // nothing of it may leak through Unwrap either
	}
	return &redactedError{msg: r.string(err.Error()), cause: cause}
}

// redactedError is an error whose text had the token removed.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// Timeout reports a timeout the way net.Error does.
func (e *redactedError) Timeout() bool {
	var ne net.Error
	return errors.As(e.cause, &ne) && ne.Timeout()
}

// ctxClient runs the library's requests under a context and redacts what
// the transport returns.
type ctxClient struct {
	ctx    context.Context
	client *http.Client
	redact redactor
	health *reachability
}

func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.client.Do(req.WithContext(c.ctx))
	if err != nil {
		err = c.redact.err(err)
		if c.ctx.Err() == nil { // our own cancellation says nothing of the server
			c.health.failed(err)
		}
		return nil, err
	}
	c.health.answered()
	return resp, nil
}

// reachability remembers whether the Bot API answers: any HTTP answer, even
// an error, shows it does; transport failures in a row show it does not.
type reachability struct {
	mu       sync.Mutex
	failures int
	last     error
}

// unreachableAfter is how many transport failures in a row make the adapter
// not ready: one is a blip, three is an outage.
const unreachableAfter = 3

func (r *reachability) answered() {
	r.mu.Lock()
	r.failures, r.last = 0, nil
	r.mu.Unlock()
}

func (r *reachability) failed(err error) {
	r.mu.Lock()
	r.failures++
	r.last = err
	r.mu.Unlock()
}

func (r *reachability) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures >= unreachableAfter {
		return fmt.Errorf("telegram: the Bot API did not answer %d requests in a row: %w", r.failures, r.last)
	}
	return nil
}

// Ready reports whether the Bot API answers, for readiness probes.
func (a *Adapter) Ready() error { return a.health.err() }

// api returns a library client whose requests run under ctx. The library's
// BotAPI holds no connection state, so one per call costs an allocation.
func (a *Adapter) api(ctx context.Context) *tgbotapi.BotAPI {
	api := &tgbotapi.BotAPI{
		Token:  a.token,
		Client: ctxClient{ctx: ctx, client: a.httpClient, redact: a.redact, health: &a.health},
		Self:   a.self,
	}
	api.SetAPIEndpoint(a.endpoint)
	return api
}

// call makes one Bot API request under ctx, bounded by the request timeout,
// and redacts its error.
func (a *Adapter) call(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, a.requestTimeout)
	defer cancel()
	resp, err := a.api(ctx).MakeRequest(method, params)
	if err != nil {
		return resp, a.redact.err(err)
	}
	return resp, nil
}
