package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
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
	m.ObserveFetch("ok", briefings.IngestStats{New: 5, NewStories: 3, Grown: 1})
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
