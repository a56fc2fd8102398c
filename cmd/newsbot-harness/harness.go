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

// floodRejections counts the 429s the fake's flood control answered for a
// limit reached (not injected ones, nor refusals inside a flood wait).
func floodRejections(st telegramtest.Stats) int {
	return st.TooManyRequests[telegramtest.ScopeChat] + st.TooManyRequests[telegramtest.ScopeGroup] + st.TooManyRequests[telegramtest.ScopeGlobal]
}

// fanOutSpec is what one fan-out run sends: N chats due at the same minute,
// of which Groups are supergroups, and ChattyGroups of those are also sent
// CommandsPerGroup commands at the start (replies share the budgets with
// deliveries, and push those groups past their 20 a minute); Inject429 of
// the sends are answered 429 with a retry_after of 1…RetryAfterMax seconds
// that starts a flood wait for every chat.
type fanOutSpec struct {
	N                int
	Scale            float64
	Groups           int
	ChattyGroups     int
	CommandsPerGroup int
	Inject429        float64
	RetryAfterMax    int
}

// fanOutResult is one fan-out run's figures.
type fanOutResult struct {
	fanOutSpec
	Count       deliveryCount
	Replies     int           // command replies the groups received
	Elapsed     time.Duration // first to last accepted briefing
	Achieved    float64       // messages per second between them, replies included
	Allowed     float64       // the global limit, scaled
	Rejected429 int           // the fake's flood control (not injected)
	Injected429 int
	// InsideRetryAfter are sends that reached the fake while a flood wait
	// covered their chat; InFlightAt429 the bot's sends in flight when each
	// 429 reached it (from its log), summed: the sends that could still
	// arrive inside a wait.
	InsideRetryAfter int
	InFlightAt429    int
	Limits           telegramtest.Limits
	BusiestGlobal    int   // most messages in one window of the global limit
	BusiestGroup     int   // most to one group in one window of the group limit
	BusiestChat      int   // most to one chat in one window of the chat limit
	PeakRSS          int64 // the bot process's VmHWM once every delivery is done, bytes
}

func (r fanOutResult) Ratio() float64 { return r.Achieved / r.Allowed }

// groupID is the id of the i-th harness supergroup.
func groupID(i int) int64 { return -1_001_000_000_000 - int64(i) }

// fanOut subscribes spec.N chats due at the same minute, runs the bot (bc)
// against the strict fake with both their limits scaled by spec.Scale, and
// measures the broadcast.
func fanOut(ctx context.Context, bc botCommand, dir string, spec fanOutSpec) (fanOutResult, error) {
	res := fanOutResult{fanOutSpec: spec}
	feed := newsFeed()
	defer feed.Close()
	fake, err := telegramtest.Start(telegramtest.Options{Token: harnessToken, RateScale: spec.Scale, Faults: telegramtest.Faults{
		Rate429: spec.Inject429, RetryAfterMin: 1, RetryAfterMax: max(spec.RetryAfterMax, 1), InjectedScope: telegramtest.ScopeGlobal, Seed: 12,
	}})
	if err != nil {
		return res, err
	}
	defer fake.Close()
	groups := min(spec.Groups, spec.N)
	chats := chatIDs(spec.N - groups)
	for _, id := range chats {
		if err := fake.AddPrivateChat(id, "Reader"); err != nil {
			return res, err
		}
	}
	for i := range groups {
		id := groupID(i)
		if err := fake.AddGroup(id, fmt.Sprintf("Readers %d", i), true); err != nil {
			return res, err
		}
		chats = append(chats, id)
	}
	chatty := chats[len(chats)-min(spec.ChattyGroups, groups):]
	for _, id := range chatty {
		for k := range spec.CommandsPerGroup {
			if _, err := fake.SendText(id, int64(500+k), "/help"); err != nil {
				return res, err
			}
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
	p, err := startBot(bc, botEnv(fake, dbPath, feed.URL+"/feed.xml", addr, spec.Scale), dir, addr, 0)
	if err != nil {
		return res, err
	}
	// Generous: three times the time the limits need, plus the flood
	// waits, plus start-up.
	sends := float64(spec.N + len(chatty)*spec.CommandsPerGroup)
	need := sends/(30*spec.Scale) + float64(len(chatty))*60/spec.Scale +
		sends*spec.Inject429*float64(max(spec.RetryAfterMax, 1)+2)
	budget := time.Duration(3*need*float64(time.Second)) + time.Minute
	waitCtx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	err = p.waitUntil(waitCtx, "every delivery and reply", func() bool {
		if fake.Stats().Sent < spec.N || fake.PendingUpdates() > 0 {
			return false
		}
		for _, id := range chatty {
			if len(fake.Messages(id)) < spec.CommandsPerGroup+1 {
				return false
			}
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
	res.Injected429 = st.TooManyRequests[telegramtest.ScopeInjected]
	res.InsideRetryAfter = st.DuringRetryAfter
	if res.InFlightAt429, err = inFlightAt429(p.logPath); err != nil {
		return res, err
	}
	res.BusiestGlobal, res.BusiestChat = st.BusiestGlobal, st.BusiestChat
	for _, n := range st.BusiestGroup {
		res.BusiestGroup = max(res.BusiestGroup, n)
	}
	limits, fakeScale := fake.Limits()
	res.Limits = limits
	res.Allowed = float64(limits.Global.Count) / limits.Global.Per.Seconds() * fakeScale
	// The rate is taken while deliveries went out: from the first briefing
	// to the last, counting every message in between (replies too). The
	// chatty groups' briefings are left out of the span: their group's
	// minute, full of replies, holds them back, not the global budget.
	var first, last time.Time
	all := fake.AllMessages()
	for _, m := range all {
		if !strings.HasPrefix(m.PlainText, "News briefing") || slices.Contains(chatty, m.ChatID) {
			continue
		}
		if first.IsZero() || m.Time.Before(first) {
			first = m.Time
		}
		if m.Time.After(last) {
			last = m.Time
		}
	}
	if res.Elapsed = last.Sub(first); res.Elapsed > 0 {
		inSpan := 0
		for _, m := range all {
			if !m.Time.Before(first) && !m.Time.After(last) {
				inSpan++
			}
		}
		res.Achieved = float64(inSpan-1) / res.Elapsed.Seconds()
	}
	for _, id := range chatty {
		res.Replies += len(fake.Messages(id)) - 1
	}
	return res, nil
}

// inFlightAt429 sums what the bot logged as in flight each time a 429 paused
// it (the Telegram adapter's "Telegram asked to wait" lines).
func inFlightAt429(logPath string) (int, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return 0, err
	}
	sum := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "Telegram asked to wait") {
			continue
		}
		_, rest, ok := strings.Cut(line, " in_flight=")
		if !ok {
			return 0, fmt.Errorf("bot log: a pause without in_flight: %s", line)
		}
		field, _, _ := strings.Cut(rest, " ")
		n, err := strconv.Atoi(field)
		if err != nil {
			return 0, fmt.Errorf("bot log: in_flight=%q: %w", field, err)
		}
		sum += n
	}
	return sum, nil
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
