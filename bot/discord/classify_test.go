package discord

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot"
)

func restError(status, code int) error {
	return &discordgo.RESTError{Response: &http.Response{StatusCode: status, Status: http.StatusText(status)},
		Message: &discordgo.APIErrorMessage{Code: code}}
}

func TestClassifySend(t *testing.T) {
	rateLimited := &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{RetryAfter: 1500 * time.Millisecond}}}
	tests := []struct {
		name       string
		err        error
		info       *callInfo
		missing    []string
		wantClass  string
		wantReason string
		wantAfter  time.Duration
		wantGlobal bool
	}{
		{"bucket 429", rateLimited, nil, nil, "retry_after", "", 1500 * time.Millisecond, false},
		{"global 429", rateLimited, &callInfo{status: 429, global: true, retryAfter: 2 * time.Second}, nil, "retry_after", "", 2 * time.Second, true},
		{"cloudflare ban", errors.New("json unmarshal"), &callInfo{status: 429, global: true, retryAfter: time.Hour}, nil, "retry_after", "", time.Hour, true},
		{"429 without a wait", rateLimited, &callInfo{status: 429}, nil, "retry_after", "", 1500 * time.Millisecond, false},
		{"missing access, known why", restError(403, codeMissingAccess), nil, []string{"View Channel", "Send Messages", "Embed Links"}, "gone",
			"the bot lacks View Channel, Send Messages and Embed Links in #news", 0, false},
		{"missing permissions, known why", restError(403, codeMissingPermissions), nil, []string{"Send Messages"}, "gone", "the bot lacks Send Messages in #news", 0, false},
		{"missing access", restError(403, codeMissingAccess), nil, nil, "gone",
			"the bot cannot see #news (it lacks View Channel there, or was removed from the server)", 0, false},
		{"missing permissions", restError(403, codeMissingPermissions), nil, nil, "gone", "the bot lacks Send Messages or Embed Links in #news", 0, false},
		{"unknown channel", restError(404, codeUnknownChannel), nil, nil, "gone", "#news was deleted", 0, false},
		{"server error", restError(500, 0), nil, nil, "transient", "", 0, false},
		{"bad gateway", errors.New("Exceeded Max retries HTTP 502"), &callInfo{status: 502}, nil, "transient", "", 0, false},
		{"timeout", errors.New("context deadline exceeded"), nil, nil, "transient", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classifySend(tc.err, describeFailure(tc.err, tc.info), "#news", tc.missing)
			if c := bot.Classify(got); c != tc.wantClass {
				t.Fatalf("classified %s (%v), want %s", c, got, tc.wantClass)
			}
			var gone *bot.ChatGoneError
			if errors.As(got, &gone) && gone.Reason != tc.wantReason {
				t.Errorf("reason %q, want %q", gone.Reason, tc.wantReason)
			}
			var ra *bot.RetryAfterError
			if errors.As(got, &ra) && (ra.After != tc.wantAfter || ra.Global != tc.wantGlobal) {
				t.Errorf("retry after %v global %v, want %v %v", ra.After, ra.Global, tc.wantAfter, tc.wantGlobal)
			}
			if !errors.Is(got, tc.err) {
				t.Error("the platform's error is not wrapped")
			}
		})
	}
	unauthorized := classifySend(restError(401, 0), describeFailure(restError(401, 0), nil), "#news", nil)
	if !errors.Is(unauthorized, ErrUnauthorized) {
		t.Errorf("401: %v, want ErrUnauthorized", unauthorized)
	}
}

// TestClassifyPermanent: a 400 and a 401 are rejections the delivery queue
// must not retry forever.
func TestClassifyPermanent(t *testing.T) {
	for _, f := range []restFailure{{status: http.StatusBadRequest, code: 50035}, {status: http.StatusUnauthorized}} {
		err := classifySend(errors.New("boom"), f, "#news", nil)
		if got := bot.Classify(err); got != "rejected" {
			t.Errorf("status %d classified %q, want rejected", f.status, got)
		}
	}
}
