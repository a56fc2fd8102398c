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
	"github.com/newsbot/newsbot/briefings/summarize"
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
//
// Every labelled series whose label values are known starts at zero, so
// /metrics lists every newsbot_ family from the first scrape and a rate()
// over it works from the start (Prometheus' "avoid missing metrics"). The
// values come from the types that define them: bot.Outcomes,
// briefings.Platforms, briefings.FeedFetchResults, summarize.FallbackReasons.
func New(counter SubscriptionCounter, now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	m := &Metrics{registry: prometheus.NewRegistry()}
	platforms := known("platform", briefings.Platforms()...)
	m.feedFetches = m.counterVec("newsbot_feed_fetches_total", "Feed fetches by result: ok, not_modified (a 304) or error.",
		known("result", briefings.FeedFetchResults()...))
	m.itemsIngested = m.counter("newsbot_items_ingested_total", "Feed items never seen before, ingested.")
	m.storiesGrouped = m.counterVec("newsbot_stories_grouped_total",
		"Stories made from new items: new stories, existing stories another outlet's telling joined, and stored stories folded into another once a later telling showed them one event.",
		known("kind", kindNew, kindGrown, kindMerged))
	m.deliveries = m.counterVec("newsbot_delivery_events_total",
		"What delivery did, by platform and outcome (sent, retry_after, gone, moved, rejected, transient, failed, deferred, ...).",
		platforms, known("outcome", bot.Outcomes()...))
	m.rateLimited = m.counterVec("newsbot_rate_limited_total", "429 answers from the platforms.", platforms)
	m.sendLatency = m.histogramVec("newsbot_send_seconds", "Time to send one message to a platform, pacing included.",
		[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, platforms)
	m.summaryFallback = m.counterVec("newsbot_llm_fallbacks_total",
		"LLM summaries refused or failed, replaced by the extractive summary, by reason.",
		known("reason", summarize.FallbackReasons()...))
	m.articles = m.counterVec("newsbot_article_fetches_total",
		"Article pages fetched for teasers, by result: enriched (the page's text is used) or why the feed text stayed.",
		known("result", briefings.ArticleResults...))
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if counter != nil {
		m.registry.MustRegister(&subscriptionCollector{counter: counter, now: now, platforms: briefings.Platforms()})
	}
	return m
}

// The kinds of newsbot_stories_grouped_total: the counts of
// briefings.IngestStats that ObserveFetch reports.
const (
	kindNew    = "new"
	kindGrown  = "grown"
	kindMerged = "merged"
)

// label is a metric label and the values it is known to take.
type label struct {
	name   string
	values []string
}

func known[T ~string](name string, values ...T) label {
	l := label{name: name}
	for _, v := range values {
		l.values = append(l.values, string(v))
	}
	return l
}

func labelNames(labels []label) []string {
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = l.name
	}
	return names
}

// eachCombination calls f with every combination of the labels' known
// values.
func eachCombination(labels []label, f func(values []string)) {
	values := make([]string, len(labels))
	var walk func(i int)
	walk = func(i int) {
		if i == len(labels) {
			f(values)
			return
		}
		for _, v := range labels[i].values {
			values[i] = v
			walk(i + 1)
		}
	}
	walk(0)
}

func (m *Metrics) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	m.registry.MustRegister(c)
	return c
}

// counterVec registers a labelled counter with a series at zero for every
// combination of the labels' known values.
func (m *Metrics) counterVec(name, help string, labels ...label) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labelNames(labels))
	eachCombination(labels, func(values []string) { c.WithLabelValues(values...) })
	m.registry.MustRegister(c)
	return c
}

// histogramVec is counterVec's histogram.
func (m *Metrics) histogramVec(name, help string, buckets []float64, labels ...label) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labelNames(labels))
	eachCombination(labels, func(values []string) { h.WithLabelValues(values...) })
	m.registry.MustRegister(h)
	return h
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveFetch is the Poller's Observe hook.
func (m *Metrics) ObserveFetch(result string, ingested briefings.IngestStats) {
	m.feedFetches.WithLabelValues(result).Inc()
	m.itemsIngested.Add(float64(ingested.New))
	m.storiesGrouped.WithLabelValues(kindNew).Add(float64(ingested.NewStories))
	m.storiesGrouped.WithLabelValues(kindGrown).Add(float64(ingested.Grown))
	m.storiesGrouped.WithLabelValues(kindMerged).Add(float64(ingested.Merged))
}

// ObserveDelivery implements bot.DeliveryObserver.
func (m *Metrics) ObserveDelivery(e bot.DeliveryEvent) {
	platform := string(e.Platform)
	n := 1
	if e.Count > 0 {
		n = e.Count
	}
	m.deliveries.WithLabelValues(platform, e.Outcome).Add(float64(n))
	if e.Outcome == bot.OutcomeRetryAfter {
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
	counter   SubscriptionCounter
	now       func() time.Time
	platforms []briefings.Platform // reported at zero when the store counts none
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
	byPlatform := make(map[briefings.Platform]briefings.SubscriptionCount, len(c.platforms))
	for _, p := range c.platforms {
		byPlatform[p] = briefings.SubscriptionCount{Platform: p}
	}
	for _, pc := range counts {
		byPlatform[pc.Platform] = pc
	}
	for _, pc := range byPlatform {
		p := string(pc.Platform)
		ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(pc.Active), p)
		ch <- prometheus.MustNewConstMetric(dueDesc, prometheus.GaugeValue, float64(pc.Due), p)
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(pc.Overdue), p)
	}
}
