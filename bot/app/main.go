// Package app assembles the newsbot process: configuration → store → core →
// adapters. It is its own package, not part of package bot, because it
// imports every adapter and every adapter imports bot.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/app/config"
	"github.com/newsbot/newsbot/bot/console"
	"github.com/newsbot/newsbot/bot/discord"
	"github.com/newsbot/newsbot/bot/metrics"
	"github.com/newsbot/newsbot/bot/sample"
	"github.com/newsbot/newsbot/bot/telegram"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/article"
	"github.com/newsbot/newsbot/briefings/feeds"
	"github.com/newsbot/newsbot/briefings/summarize"
)

// Main is the whole bot process, built from a Config.
type Main struct {
	Config config.Config
	Stdin  io.Reader
	Stdout io.Writer
	Logger *slog.Logger
	// Now is the clock; time.Now when nil. Tests inject their own.
	Now func() time.Time

	store    Store
	Service  *briefings.Service // set by Run once the store is open
	poller   *briefings.Poller
	metrics  *metrics.Metrics
	httpAddr string
	ready    atomic.Bool // the platforms are serving
}

// NewMain returns a Main that logs to stderr at the configured level.
func NewMain(cfg config.Config, stdin io.Reader, stdout, stderr io.Writer) *Main {
	return &Main{
		Config: cfg,
		Stdin:  stdin,
		Stdout: stdout,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel})),
	}
}

// initialPollTimeout bounds the first round of feed fetches at start; feeds
// slower than that are picked up by the next round.
const initialPollTimeout = 30 * time.Second

// Run opens the store, reads the feeds and serves the adapters until ctx ends
// or, for the console, until its input ends. Shutting down through ctx (Ctrl-C,
// SIGTERM) is not an error, at whatever stage it comes.
func (m *Main) Run(ctx context.Context) error {
	err := m.run(ctx)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		m.Logger.Info("stopped while starting", "reason", err)
		return nil
	}
	return err
}

func (m *Main) run(ctx context.Context) error {
	if m.Now == nil {
		m.Now = time.Now
	}
	log := m.Logger
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	store, err := openBotStore(ctx, m.Config)
	if err != nil {
		return err
	}
	m.store = store
	m.metrics = metrics.New(store, m.Now)

	if err := AddConfiguredFeeds(ctx, store, m.Config); err != nil {
		return err
	}

	summarizer, err := m.summarizer(store)
	if err != nil {
		return err
	}
	srcs, err := store.ListSources(ctx)
	if err != nil {
		return fmt.Errorf("list feeds: %w", err)
	}
	// One fetcher, one set of guards, for the operator's feeds and the
	// addresses chats give.
	fetcher := feeds.NewFetcher(feeds.Options{
		AllowPrivate: m.Config.AllowPrivateFeeds,
		Now:          m.Now,
	})
	opts := briefings.Options{
		Summarizer:   summarizer,
		Now:          m.Now,
		Logger:       log,
		DefaultZone:  m.Config.Timezone,
		BriefingSize: m.Config.BriefingSize,
		Finder:       fetcher,
		FeedLists:    feeds.FeedLists{},
		SourceLimits: briefings.SourceLimits{PerChat: m.Config.MaxSourcesPerChat, Feeds: m.Config.MaxFeeds},
	}
	if m.Config.FetchArticles {
		// Pages are fetched with the feeds' guards, off the poll: stories
		// are briefed from their feed text at once and summarized again
		// when their page has been read.
		opts.Articles = article.NewFetcher(article.Options{AllowPrivate: m.Config.AllowPrivateFeeds})
		opts.OnArticle = m.metrics.ObserveArticle
	}
	m.Service = briefings.NewService(store, opts)
	poller := &briefings.Poller{
		Observe:  m.metrics.ObserveFetch,
		Sources:  store,
		Fetcher:  fetcher,
		Ingester: m.Service,
		// Instances sharing a store claim the due feeds, so each feed
		// is fetched by one of them per interval.
		Owner:    store.InstanceID(),
		Interval: m.Config.PollInterval,
		Now:      m.Now,
		Logger:   log,
	}
	poller.Fetcher = m.recordFetches(poller.Fetcher)
	m.poller = poller

	if len(srcs) == 0 {
		if err := m.ingestSample(ctx); err != nil {
			return err
		}
	} else {
		pollCtx, cancel := context.WithTimeout(ctx, initialPollTimeout)
		stats, err := poller.Poll(pollCtx)
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("first poll: %w", err)
		}
		log.Info("read feeds", "feeds", stats.Due, "ok", stats.OK, "failed", stats.Failed, "new_items", stats.Ingest.New)
	}

	// Deferred before the background work's wait, so it runs after it: an
	// instance leaves the others once it sends no more.
	var in *instance
	defer func() {
		if in != nil {
			in.leave()
		}
	}()
	// Background work stops when the adapters return (the console at the
	// end of its input) or ctx ends, and Run waits for it.
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() { m.Service.RunArticles(ctx) })
	// Polled even with no operator's feed: chats may add their own.
	wg.Go(func() {
		if err := poller.Run(ctx); err != nil {
			log.Error("poller stopped", "err", err)
		}
	})

	platforms, err := m.platforms(ctx)
	if err != nil {
		return err
	}
	if in, err = m.joinInstances(ctx, platforms); err != nil {
		return fmt.Errorf("join the other instances: %w", err)
	}
	if in != nil {
		wg.Go(func() { in.run(ctx) })
	}
	handler := &bot.Handler{Service: m.Service, Logger: log}

	var httpSrv *http.Server
	if m.Config.HTTPAddr != "" {
		httpSrv, err = m.serveHTTP(ctx, platforms)
		if err != nil {
			return err
		}
		defer shutdownHTTP(httpSrv)
	}

	// Every platform serves until ctx ends; when one returns — the console at
	// the end of its input, or a platform that failed — the process stops.
	stopped := make(chan error, len(platforms))
	for _, p := range platforms {
		wg.Go(func() {
			err := p.Serve(ctx, handler)
			if err != nil {
				err = fmt.Errorf("%s: %w", p.Name(), err)
			}
			stopped <- err
		})
	}
	m.ready.Store(true)
	wg.Go(func() {
		if err := m.runDelivery(ctx, platforms); err != nil {
			log.Error("delivery stopped", "err", err)
		}
	})
	select {
	case err := <-stopped:
		return err
	case <-ctx.Done():
		return nil
	}
}

// platforms builds the adapters the configuration asks for: each one whose
// token is set, or else the console.
func (m *Main) platforms(ctx context.Context) ([]bot.Platform, error) {
	var ps []bot.Platform
	if m.Config.Telegram.Token != "" {
		p, err := m.newTelegram(ctx)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if m.Config.Discord.Token != "" {
		p, err := m.newDiscord(ctx)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		m.Logger.Info("no platform token configured: running the console adapter; type /help")
		ps = append(ps, &console.Console{In: m.Stdin, Out: m.Stdout})
	}
	return ps, nil
}

// HTTPRouter is a platform that serves requests on the bot's HTTP listener
// (webhooks, HTTP interactions).
type HTTPRouter interface {
	RegisterHTTP(mux *http.ServeMux)
}

// Readier is a platform that can tell whether it is connected to its
// service (the Bot API answers, the gateway is up), for /readyz.
type Readier interface {
	Ready() error
}

var (
	_ Readier = (*telegram.Adapter)(nil)
	_ Readier = (*discord.Adapter)(nil)
)

// serveHTTP starts the listener on NEWSBOT_HTTP_ADDR with the platforms'
// routes.
func (m *Main) serveHTTP(ctx context.Context, platforms []bot.Platform) (*http.Server, error) {
	mux := http.NewServeMux()
	for _, p := range platforms {
		if r, ok := p.(HTTPRouter); ok {
			r.RegisterHTTP(mux)
		}
	}
	// /healthz: the process is alive. /readyz: it can do its job — the store
	// answers and the platforms are serving.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		pingCtx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := m.store.Ping(pingCtx); err != nil {
			m.Logger.Warn("not ready: store", "err", err)
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		if !m.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		for _, p := range platforms {
			if r, ok := p.(Readier); ok {
				if err := r.Ready(); err != nil {
					m.Logger.Warn("not ready", "platform", string(p.Name()), "err", err)
					http.Error(w, string(p.Name())+" not connected", http.StatusServiceUnavailable)
					return
				}
			}
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", m.metrics.Handler())
	if err := m.mountAdmin(ctx, mux); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", m.Config.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("NEWSBOT_HTTP_ADDR: %w", err)
	}
	m.httpAddr = ln.Addr().String()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http listener stopped", "err", err)
		}
	}()
	m.Logger.Info("http listener", "addr", m.httpAddr)
	return srv, nil
}

func shutdownHTTP(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// HTTPAddr is the address the HTTP listener took (useful with port 0).
func (m *Main) HTTPAddr() string { return m.httpAddr }

// summarizer is the extractive summarizer, or the LLM one (falling back to
// it) when NEWSBOT_LLM_URL is set.
func (m *Main) summarizer(cache briefings.SummaryCache) (briefings.Summarizer, error) {
	extractive := summarize.New(summarize.Options{})
	if m.Config.LLM.URL == "" {
		return extractive, nil
	}
	llm, err := summarize.NewLLM(summarize.LLMOptions{
		BaseURL:  m.Config.LLM.URL,
		Model:    m.Config.LLM.Model,
		APIKey:   m.Config.LLM.APIKey,
		Fallback: extractive,
		Cache:    cache,
		Logger:   m.Logger,
		OnFallback: func(reason summarize.FallbackReason) {
			m.metrics.ObserveSummaryFallback(string(reason))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("NEWSBOT_LLM_URL: %w", err)
	}
	m.Logger.Info("summarizing with an LLM, extractive as fallback", "model", m.Config.LLM.Model)
	return llm, nil
}

// ingestSample briefs the embedded sample feeds, used while no feed is
// configured so a fresh checkout has news with no network.
func (m *Main) ingestSample(ctx context.Context) error {
	items, err := sample.Items()
	if err != nil {
		return err
	}
	stats, err := m.Service.Ingest(ctx, items)
	if err != nil {
		return fmt.Errorf("ingest sample feeds: %w", err)
	}
	m.Logger.Info("no feeds configured: using the embedded sample feeds", "items", stats.Received, "new", stats.New)
	return nil
}

// AddConfiguredFeeds adds the feeds of NEWSBOT_FEEDS and NEWSBOT_OPML to the
// stored list.
func AddConfiguredFeeds(ctx context.Context, store briefings.SourceStore, cfg config.Config) error {
	urls := cfg.Feeds
	if cfg.OPMLPath != "" {
		f, err := os.Open(cfg.OPMLPath)
		if err != nil {
			return fmt.Errorf("NEWSBOT_OPML: %w", err)
		}
		list, err := feeds.ParseOPML(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("NEWSBOT_OPML: %w", err)
		}
		for _, o := range list {
			urls = append(urls, o.URL)
		}
	}
	for _, u := range urls {
		if _, err := store.AddSource(ctx, u); err != nil {
			return fmt.Errorf("add feed %s: %w", u, err)
		}
	}
	return nil
}

// Close releases the store.
func (m *Main) Close() error {
	if m.store == nil {
		return nil
	}
	err := m.store.Close()
	m.store = nil
	return err
}
