// Package metrics is newsbot's operator view in Prometheus form: what the
// feeds, the core and the deliveries did, and the state of the subscriptions.
// It is the one package that imports the Prometheus client; everything else
// reports through the hooks it offers (Poller.Observe, bot.DeliveryObserver,
// the LLM summarizer's OnFallback, the Service's OnArticle).
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// Metrics holds newsbot's collectors in their own registry (no package
// globals: two bots in one test process do not share counters).
type Metrics struct {
	registry *prometheus.Registry

	feedFetches     *prometheus.CounterVec
	itemsIngested   prometheus.Counter
	storiesGrouped  *prometheus.CounterVec
	deliveries      *prometheus.CounterVec
	rateLimited     *prometheus.CounterVec
	sendLatency     *prometheus.HistogramVec
	summaryFallback *prometheus.CounterVec
	articles        *prometheus.CounterVec
}

// SubscriptionCounter reports the subscription gauges at scrape time.
type SubscriptionCounter interface {
	CountSubscriptions(ctx context.Context, now time.Time, overdueAfter time.Duration) ([]briefings.SubscriptionCount, error)
}

// OverdueAfter is how long past its time a delivery counts as overdue.
const OverdueAfter = 5 * time.Minute

// New returns newsbot's metrics. counter, when not nil, is asked for the
// subscription gauges at each scrape; now is the clock (time.Now when nil).
func New(counter SubscriptionCounter, now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		feedFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsbot_feed_fetches_total", Help: "Feed fetches by result: ok, not_modified (a 304) or error.",
		}, []string{"result"}),
		itemsIngested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "newsbot_items_ingested_total", Help: "Feed items never seen before, ingested.",
		}),
		storiesGrouped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsbot_stories_grouped_total", Help: "Stories made from new items: new stories, and existing stories another outlet's telling joined.",
		}, []string{"kind"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsbot_delivery_events_total", Help: "What delivery did, by platform and outcome (sent, retry_after, gone, moved, rejected, transient, failed, deferred, ...).",
		}, []string{"platform", "outcome"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsbot_rate_limited_total", Help: "429 answers from the platforms.",
		}, []string{"platform"}),
		sendLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "newsbot_send_seconds", Help: "Time to send one message to a platform, pacing included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"platform"}),
		summaryFallback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsbot_llm_fallbacks_total", Help: "LLM summaries refused or failed, replaced by the extractive summary, by reason.",
		}, []string{"reason"}),
		articles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsbot_article_fetches_total", Help: "Article pages fetched for teasers, by result: enriched (the page's text is used) or why the feed text stayed.",
		}, []string{"result"}),
	}
	// Known label values start at zero, so a rate over them works from the
	// first scrape.
	for _, r := range []string{"ok", "not_modified", "error"} {
		m.feedFetches.WithLabelValues(r)
	}
	for _, k := range []string{"new", "grown"} {
		m.storiesGrouped.WithLabelValues(k)
	}
	for _, r := range briefings.ArticleResults {
		m.articles.WithLabelValues(r)
	}
	m.registry.MustRegister(m.feedFetches, m.itemsIngested, m.storiesGrouped, m.deliveries, m.rateLimited,
		m.sendLatency, m.summaryFallback, m.articles,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if counter != nil {
		m.registry.MustRegister(&subscriptionCollector{counter: counter, now: now})
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveFetch is the Poller's Observe hook.
func (m *Metrics) ObserveFetch(result string, ingested briefings.IngestStats) {
	m.feedFetches.WithLabelValues(result).Inc()
	m.itemsIngested.Add(float64(ingested.New))
	m.storiesGrouped.WithLabelValues("new").Add(float64(ingested.NewStories))
	m.storiesGrouped.WithLabelValues("grown").Add(float64(ingested.Grown))
}

// ObserveDelivery implements bot.DeliveryObserver.
func (m *Metrics) ObserveDelivery(e bot.DeliveryEvent) {
	platform := string(e.Platform)
	n := 1
	if e.Count > 0 {
		n = e.Count
	}
	m.deliveries.WithLabelValues(platform, e.Outcome).Add(float64(n))
	if e.Outcome == "retry_after" {
		m.rateLimited.WithLabelValues(platform).Inc()
	}
	if e.Latency > 0 {
		m.sendLatency.WithLabelValues(platform).Observe(e.Latency.Seconds())
	}
}

var _ bot.DeliveryObserver = (*Metrics)(nil)

// ObserveSummaryFallback is the LLM summarizer's OnFallback hook.
func (m *Metrics) ObserveSummaryFallback(reason string) {
	m.summaryFallback.WithLabelValues(reason).Inc()
}

// ObserveArticle is the Service's OnArticle hook.
func (m *Metrics) ObserveArticle(result string) {
	m.articles.WithLabelValues(result).Inc()
}

// subscriptionCollector asks the store for the subscription gauges at scrape
// time, so they are never stale and cost nothing between scrapes.
type subscriptionCollector struct {
	counter SubscriptionCounter
	now     func() time.Time
}

var (
	activeDesc  = prometheus.NewDesc("newsbot_subscriptions_active", "Subscriptions with daily deliveries on.", []string{"platform"}, nil)
	dueDesc     = prometheus.NewDesc("newsbot_deliveries_due", "Active subscriptions whose delivery is due now.", []string{"platform"}, nil)
	overdueDesc = prometheus.NewDesc("newsbot_deliveries_overdue", "Active subscriptions due for longer than 5 minutes.", []string{"platform"}, nil)
	upDesc      = prometheus.NewDesc("newsbot_store_up", "1 when the store answered the last scrape's query.", nil, nil)
)

func (c *subscriptionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- activeDesc
	ch <- dueDesc
	ch <- overdueDesc
	ch <- upDesc
}

func (c *subscriptionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.counter.CountSubscriptions(ctx, c.now(), OverdueAfter)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for _, pc := range counts {
		p := string(pc.Platform)
		ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(pc.Active), p)
		ch <- prometheus.MustNewConstMetric(dueDesc, prometheus.GaugeValue, float64(pc.Due), p)
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(pc.Overdue), p)
	}
}
