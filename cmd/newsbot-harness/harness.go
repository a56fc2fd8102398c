package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

// harnessToken is the token the fake accepts; it is no one's secret.
const harnessToken = "123456789:AAE-harness-not-a-secret-0123456789ab"

// firstChatID is the id of the first harness chat; the others follow it.
const firstChatID = 1_000_000

// newsFeed serves an RSS feed of five stories published in the last hours
// of the real clock, so that a bot on the real clock has a day's news to
// deliver. Every story has its own words, so none is grouped with another.
func newsFeed() *httptest.Server {
	topics := []string{
		"Harbour council approves the new ferry terminal plan",
		"Volunteers plant four hundred trees along the river",
		"Regional orchestra announces a free summer concert series",
		"Railway operator restores the night trains to the coast",
		"Library opens a workshop for repairing old bicycles",
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UTC()
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Harness Desk</title><link>http://harness.test/</link>`)
		for i, title := range topics {
			fmt.Fprintf(&b, `<item><title>%s</title><link>http://harness.test/%d</link><pubDate>%s</pubDate>`+
				`<description>%s, officials said on the day. More details followed later in the afternoon.</description></item>`,
				title, i, now.Add(-time.Duration(i+1)*time.Hour).Format(time.RFC1123Z), title)
		}
		b.WriteString(`</channel></rss>`)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, b.String())
	}))
}

// middayZone returns a fixed-offset zone in which it is about midday at
// now, so that "due now" and "today" can never straddle a local midnight
// however the run is timed.
func middayZone(now time.Time) (briefings.Zone, error) {
	offset := 12 - now.UTC().Hour() // -11 … +12, all valid Etc/GMT zones
	var name string
	switch {
	case offset > 0:
		name = fmt.Sprintf("Etc/GMT-%d", offset) // POSIX signs: Etc/GMT-3 is UTC+3
	case offset < 0:
		name = fmt.Sprintf("Etc/GMT+%d", -offset)
	default:
		name = "UTC"
	}
	return briefings.ParseZone(name)
}

// subscribeChats stores a subscription for each Telegram chat id straight
// into the SQLite file at path, all due at due (their time of day read in
// zone), as if each chat had sent /subscribe.
func subscribeChats(ctx context.Context, path string, chats []int64, due time.Time, zone briefings.Zone) error {
	local := due.In(zone.Location())
	at := briefings.TimeOfDay(local.Hour()*60 + local.Minute())
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	created := due.Add(-48 * time.Hour)
	for _, id := range chats {
		_, err := db.SaveSubscription(ctx, briefings.Subscription{
			Chat: briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: strconv.FormatInt(id, 10)},
			At:   at, Zone: zone, Active: true, NextDue: due, CreatedAt: created,
		})
		if err != nil {
			return err
		}
	}
	return db.Close()
}

// chatIDs returns n chat ids from firstChatID on.
func chatIDs(n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(firstChatID + i)
	}
	return ids
}

// freeAddr finds a free port on 127.0.0.1 for the bot's HTTP listener.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// botProcess is a newsbot process the harness started.
type botProcess struct {
	cmd      *exec.Cmd
	httpAddr string
	logPath  string
	exited   chan struct{}
	waitErr  error
}

// botEnv is the environment of a bot on the fake with the SQLite file at
// dbPath, the feed at feedURL and its Telegram budgets scaled by scale.
func botEnv(fake *telegramtest.Server, dbPath, feedURL, httpAddr string, scale float64) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Dir(dbPath),
		"DATABASE_URL=" + dbPath,
		"TELEGRAM_BOT_TOKEN=" + harnessToken,
		"TELEGRAM_API_ENDPOINT=" + fake.Endpoint(),
		"TELEGRAM_RATE_SCALE=" + strconv.FormatFloat(scale, 'f', -1, 64),
		"NEWSBOT_FEEDS=" + feedURL,
		"NEWSBOT_ALLOW_PRIVATE_FEEDS=true",
		"NEWSBOT_HTTP_ADDR=" + httpAddr,
	}
}

// botCommand is how to start a bot: a program and environment of its own
// (added to the bot's configuration).
type botCommand struct {
	Path string
	Env  []string
}

// startBot starts bc with env in dir, its output to dir/bot-N.log.
func startBot(bc botCommand, env []string, dir, httpAddr string, n int) (*botProcess, error) {
	logPath := filepath.Join(dir, fmt.Sprintf("bot-%d.log", n))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bc.Path)
	cmd.Dir = dir
	cmd.Env = append(env, bc.Env...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start bot: %w", err)
	}
	p := &botProcess{cmd: cmd, httpAddr: httpAddr, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// logTail is the end of the bot's log, for error messages.
func (p *botProcess) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop sends sig and waits for the process to end.
func (p *botProcess) stop(sig os.Signal) error {
	select {
	case <-p.exited:
		return fmt.Errorf("the bot had stopped already: %v\n%s", p.waitErr, p.logTail())
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("the bot did not stop within 30 s of %v", sig)
	}
	if sig == syscall.SIGKILL {
		return nil
	}
	if p.waitErr != nil {
		return fmt.Errorf("bot exited: %v\n%s", p.waitErr, p.logTail())
	}
	return nil
}

// memory reads the running process's current and peak resident set in
// bytes from /proc. Not getrusage's ru_maxrss of the ended child: Linux
// carries the parent's peak over into it (the child starts as a copy of the
// harness, which holds the fake's message log).
func (p *botProcess) memory() (rss, hwm int64, err error) {
	return procMemory(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
}

func procMemory(statusPath string) (rss, hwm int64, err error) {
	f, err := os.Open(statusPath)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %s: %w", statusPath, key, err)
		}
		if key == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, fmt.Errorf("%s: no VmRSS/VmHWM", statusPath)
	}
	return rss, hwm, sc.Err()
}

// metric scrapes one sample from the bot's /metrics; ok is false when the
// listener does not answer yet or the sample is absent.
func (p *botProcess) metric(ctx context.Context, sample string) (v float64, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.httpAddr+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if s, found := strings.CutPrefix(sc.Text(), sample+" "); found {
			v, err := strconv.ParseFloat(s, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// ready reports whether the bot's /readyz answers 200.
func (p *botProcess) ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.httpAddr+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

const dueSample = `newsbot_deliveries_due{platform="telegram"}`

// waitUntil polls cond every 50 ms until it holds, the process exits, or
// ctx ends.
func (p *botProcess) waitUntil(ctx context.Context, what string, cond func() bool) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w\nbot log:\n%s", what, ctx.Err(), p.logTail())
		case <-p.exited:
			return fmt.Errorf("waiting for %s: the bot exited: %v\n%s", what, p.waitErr, p.logTail())
		case <-tick.C:
		}
	}
	return nil
}

// deliveryCount is what each chat received.
type deliveryCount struct {
	Chats      int
	Lost       int // chats without a briefing
	Duplicated int // briefings beyond the first, over all chats
	Repeated   int // chats with more than one
	Messages   int
}

// countDeliveries counts the briefings the fake accepted for chats.
func countDeliveries(fake *telegramtest.Server, chats []int64) deliveryCount {
	per := make(map[int64]int, len(chats))
	var c deliveryCount
	for _, m := range fake.AllMessages() {
		if strings.HasPrefix(m.PlainText, "News briefing") {
			per[m.ChatID]++
			c.Messages++
		}
	}
	c.Chats = len(chats)
	for _, id := range chats {
		switch n := per[id]; {
		case n == 0:
			c.Lost++
		case n > 1:
			c.Repeated++
			c.Duplicated += n - 1
		}
	}
	return c
}

// floodRejections counts the 429s the fake's flood control answered (not
// injected ones).
func floodRejections(st telegramtest.Stats) int {
	return st.TooManyRequests[telegramtest.ScopeChat] + st.TooManyRequests[telegramtest.ScopeGroup] + st.TooManyRequests[telegramtest.ScopeGlobal]
}

// fanOutResult is one fan-out run's figures.
type fanOutResult struct {
	N           int
	Scale       float64
	Count       deliveryCount
	Elapsed     time.Duration // first to last accepted briefing
	Achieved    float64       // briefings per second
	Allowed     float64       // the global limit, scaled
	Rejected429 int
	PeakRSS     int64 // the bot process's VmHWM once every delivery is done, bytes
}

func (r fanOutResult) Ratio() float64 { return r.Achieved / r.Allowed }

// fanOut subscribes n chats due at the same minute, runs the bot (bc)
// against the fake with both their limits scaled by scale, and measures the
// broadcast.
func fanOut(ctx context.Context, bc botCommand, dir string, n int, scale float64) (fanOutResult, error) {
	res := fanOutResult{N: n, Scale: scale}
	feed := newsFeed()
	defer feed.Close()
	fake, err := telegramtest.Start(telegramtest.Options{Token: harnessToken, RateScale: scale})
	if err != nil {
		return res, err
	}
	defer fake.Close()
	chats := chatIDs(n)
	for _, id := range chats {
		if err := fake.AddPrivateChat(id, "Reader"); err != nil {
			return res, err
		}
	}
	now := time.Now()
	zone, err := middayZone(now)
	if err != nil {
		return res, err
	}
	due := now.In(zone.Location()).Truncate(time.Minute)
	dbPath := filepath.Join(dir, "fanout.db")
	if err := subscribeChats(ctx, dbPath, chats, due, zone); err != nil {
		return res, fmt.Errorf("subscribe: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	p, err := startBot(bc, botEnv(fake, dbPath, feed.URL+"/feed.xml", addr, scale), dir, addr, 0)
	if err != nil {
		return res, err
	}
	// Generous: three times the time the limit needs, plus start-up.
	budget := time.Duration(3*float64(n)/(30*scale)*float64(time.Second)) + time.Minute
	waitCtx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	err = p.waitUntil(waitCtx, "every delivery", func() bool {
		if fake.Stats().Sent < n {
			return false
		}
		v, ok := p.metric(waitCtx, dueSample)
		return ok && v == 0
	})
	if err == nil {
		_, res.PeakRSS, err = p.memory()
	}
	if stopErr := p.stop(syscall.SIGTERM); err == nil {
		err = stopErr
	}
	if err != nil {
		return res, err
	}
	res.Count = countDeliveries(fake, chats)
	st := fake.Stats()
	res.Rejected429 = floodRejections(st)
	limits, fakeScale := fake.Limits()
	res.Allowed = float64(limits.Global.Count) / limits.Global.Per.Seconds() * fakeScale
	var times []time.Time
	for _, m := range fake.AllMessages() {
		if strings.HasPrefix(m.PlainText, "News briefing") {
			times = append(times, m.Time)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	if len(times) > 1 {
		res.Elapsed = times[len(times)-1].Sub(times[0])
		res.Achieved = float64(len(times)-1) / res.Elapsed.Seconds()
	}
	return res, nil
}

// storedResult is the memory of a bot holding many subscriptions, none due.
type storedResult struct {
	Subscriptions int
	RSS, HWM      int64 // VmRSS and VmHWM (the peak) after Observed
	Observed      time.Duration
	Polls         int // /metrics scrapes, each counting every subscription
}

// stored stores n subscriptions due tomorrow, runs the bot (bc) and
// measures its memory while it polls with nothing due.
func stored(ctx context.Context, bc botCommand, dir string, n int, observe time.Duration) (storedResult, error) {
	res := storedResult{Subscriptions: n}
	feed := newsFeed()
	defer feed.Close()
	fake, err := telegramtest.Start(telegramtest.Options{Token: harnessToken})
	if err != nil {
		return res, err
	}
	defer fake.Close()
	now := time.Now()
	zone, err := middayZone(now)
	if err != nil {
		return res, err
	}
	dbPath := filepath.Join(dir, "stored.db")
	// Spread over the hour a day ahead: due tomorrow, never now.
	chats := chatIDs(n)
	due := now.In(zone.Location()).Truncate(time.Minute).Add(24 * time.Hour)
	for start := 0; start < n; start += 1000 {
		batch := chats[start:min(start+1000, n)]
		if err := subscribeChats(ctx, dbPath, batch, due.Add(time.Duration(start/1000%60)*time.Minute), zone); err != nil {
			return res, fmt.Errorf("subscribe: %w", err)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	p, err := startBot(bc, botEnv(fake, dbPath, feed.URL+"/feed.xml", addr, 1), dir, addr, 1)
	if err != nil {
		return res, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = p.waitUntil(waitCtx, "the bot to be ready", func() bool { return p.ready(waitCtx) })
	if err == nil {
		// Let the scheduler poll (every second) and scrape the metrics,
		// which count every subscription, once a second meanwhile.
		end := time.Now().Add(observe)
		for time.Now().Before(end) && err == nil {
			if v, ok := p.metric(waitCtx, `newsbot_subscriptions_active{platform="telegram"}`); !ok || int(v) != n {
				err = fmt.Errorf("the bot counts %v active subscriptions, want %d", v, n)
				break
			}
			res.Polls++
			time.Sleep(time.Second)
		}
		res.Observed = observe
		if err == nil {
			res.RSS, res.HWM, err = p.memory()
		}
	}
	if stopErr := p.stop(syscall.SIGTERM); err == nil {
		err = stopErr
	}
	if err != nil {
		return res, err
	}
	if st := fake.Stats(); st.Sent != 0 {
		return res, errors.New("the bot sent messages though nothing was due")
	}
	return res, nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
