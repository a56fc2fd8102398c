package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/summarize"
)

type fakeCounter struct {
	counts []briefings.SubscriptionCount
	err    error
}

func (f fakeCounter) CountSubscriptions(context.Context, time.Time, time.Duration) ([]briefings.SubscriptionCount, error) {
	return f.counts, f.err
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestMetricsReportWhatHappened(t *testing.T) {
	m := New(fakeCounter{counts: []briefings.SubscriptionCount{{Platform: briefings.PlatformTelegram, Active: 7, Due: 2, Overdue: 1}}}, nil)
	m.ObserveFetch("ok", briefings.IngestStats{New: 5, NewStories: 3, Grown: 1, Merged: 2})
	m.ObserveFetch("not_modified", briefings.IngestStats{})
	m.ObserveFetch("error", briefings.IngestStats{})
	m.ObserveDelivery(bot.DeliveryEvent{Platform: briefings.PlatformTelegram, Outcome: "sent", Latency: 30 * time.Millisecond})
	m.ObserveDelivery(bot.DeliveryEvent{Platform: briefings.PlatformTelegram, Outcome: "retry_after", RetryAfter: 5 * time.Second})
	m.ObserveDelivery(bot.DeliveryEvent{Platform: briefings.PlatformDiscord, Outcome: "gone", Err: errors.New("50001")})
	m.ObserveSummaryFallback("ungrounded")
	m.ObserveArticle(briefings.ArticleEnriched)
	m.ObserveArticle(briefings.ArticlePaywalled)
	m.ObserveArticle(briefings.ArticlePaywalled)
	body := scrape(t, m)
	for _, want := range []string{
		`newsbot_feed_fetches_total{result="ok"} 1`,
		`newsbot_feed_fetches_total{result="not_modified"} 1`,
		`newsbot_feed_fetches_total{result="error"} 1`,
		`newsbot_items_ingested_total 5`,
		`newsbot_stories_grouped_total{kind="new"} 3`,
		`newsbot_stories_grouped_total{kind="grown"} 1`,
		`newsbot_stories_grouped_total{kind="merged"} 2`,
		`newsbot_delivery_events_total{outcome="sent",platform="telegram"} 1`,
		`newsbot_delivery_events_total{outcome="gone",platform="discord"} 1`,
		`newsbot_rate_limited_total{platform="telegram"} 1`,
		`newsbot_send_seconds_count{platform="telegram"} 1`,
		`newsbot_llm_fallbacks_total{reason="ungrounded"} 1`,
		`newsbot_subscriptions_active{platform="telegram"} 7`,
		`newsbot_deliveries_due{platform="telegram"} 2`,
		`newsbot_deliveries_overdue{platform="telegram"} 1`,
		`newsbot_store_up 1`,
		`newsbot_article_fetches_total{result="enriched"} 1`,
		`newsbot_article_fetches_total{result="paywalled"} 2`,
		`newsbot_article_fetches_total{result="dropped"} 0`, // every result starts at 0
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestMetricsStoreDown(t *testing.T) {
	m := New(fakeCounter{err: errors.New("connection refused")}, nil)
	if body := scrape(t, m); !strings.Contains(body, "newsbot_store_up 0") {
		t.Errorf("a failing store is not reported:\n%s", body)
	}
}

// TestMetricsAreSeparate: two bots in one process (as in tests) keep their
// own counts.
func TestMetricsAreSeparate(t *testing.T) {
	a, b := New(nil, nil), New(nil, nil)
	a.ObserveFetch("ok", briefings.IngestStats{})
	if strings.Contains(scrape(t, b), `newsbot_feed_fetches_total{result="ok"} 1`) {
		t.Error("a fetch counted in one Metrics shows in another")
	}
}

// zeroSeries is every series a scrape must show at 0 before anything
// happened: each family over each known value of its labels (label names
// in the text format's order, sorted).
func zeroSeries() []string {
	var out []string
	platforms := briefings.Platforms()
	for _, r := range briefings.FeedFetchResults() {
		out = append(out, `newsbot_feed_fetches_total{result="`+r+`"} 0`)
	}
	out = append(out, `newsbot_items_ingested_total 0`,
		`newsbot_stories_grouped_total{kind="new"} 0`, `newsbot_stories_grouped_total{kind="grown"} 0`,
		`newsbot_stories_grouped_total{kind="merged"} 0`)
	for _, p := range platforms {
		for _, o := range bot.Outcomes() {
			out = append(out, `newsbot_delivery_events_total{outcome="`+o+`",platform="`+string(p)+`"} 0`)
		}
		out = append(out,
			`newsbot_rate_limited_total{platform="`+string(p)+`"} 0`,
			`newsbot_send_seconds_count{platform="`+string(p)+`"} 0`,
			`newsbot_subscriptions_active{platform="`+string(p)+`"} 0`,
			`newsbot_deliveries_due{platform="`+string(p)+`"} 0`,
			`newsbot_deliveries_overdue{platform="`+string(p)+`"} 0`)
	}
	for _, r := range summarize.FallbackReasons() {
		out = append(out, `newsbot_llm_fallbacks_total{reason="`+string(r)+`"} 0`)
	}
	return out
}

func TestEverySeriesStartsAtZero(t *testing.T) {
	body := scrape(t, New(fakeCounter{}, nil))
	for _, want := range zeroSeries() {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("a fresh scrape lacks %s", want)
		}
	}
	if !strings.Contains(body, "newsbot_store_up 1\n") {
		t.Error("a fresh scrape lacks newsbot_store_up")
	}
	// Every outcome Classify can name is among the known ones.
	for _, err := range []error{nil, &bot.RetryAfterError{}, &bot.ChatGoneError{}, &bot.ChatMovedError{}, bot.ErrRejected, errors.New("x")} {
		if o := bot.Classify(err); !slices.Contains(bot.Outcomes(), o) {
			t.Errorf("Classify names %q, which bot.Outcomes lacks", o)
		}
	}
}

// TestStoreCountsKeepTheZeros: platforms the store counts nothing for are
// still reported, at zero.
func TestStoreCountsKeepTheZeros(t *testing.T) {
	body := scrape(t, New(fakeCounter{counts: []briefings.SubscriptionCount{{Platform: briefings.PlatformDiscord, Active: 3}}}, nil))
	for _, want := range []string{`newsbot_subscriptions_active{platform="discord"} 3`, `newsbot_subscriptions_active{platform="telegram"} 0`} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("scrape lacks %s", want)
		}
	}
}
