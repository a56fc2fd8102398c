// Command newsbot-harness measures daily delivery (issue 6, "Fan-out"): it
// subscribes N chats due at the same minute on a fake Telegram Bot API
// server running in this process, runs a real newsbot process against it
// (this binary started again as the bot) and prints the achieved send rate
// as a fraction of the allowed one, the 429s received, the briefings lost
// and duplicated, and the bot's peak RSS; then the RSS of a bot holding
// many subscriptions with none due.
//
//	go run ./cmd/newsbot-harness -n 10000 -scale 20
//	go run ./cmd/newsbot-harness -n 10000 -scale 10,20,40,80 -stored 0   # find the largest factor
//	go run ./cmd/newsbot-harness -quick
//
// The fake's limits and the bot's pacing budgets (TELEGRAM_RATE_SCALE) are
// scaled by the same factor, which is the documented limits on a clock that
// many times as fast; the feed is served locally with stories of the last
// hours, so the bot runs on the real clock.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	_ "time/tzdata"

	"time"

	"github.com/newsbot/newsbot/bot/app"
	"github.com/newsbot/newsbot/bot/app/config"
)

// roleEnv makes this binary run as the bot under measurement.
const roleEnv = "NEWSBOT_HARNESS_ROLE"

func main() {
	if os.Getenv(roleEnv) == "bot" {
		os.Exit(runBot(os.Environ(), os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runBot is the bot process: cmd/newsbot's run without the .env file.
func runBot(environ []string, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	cfg, err := config.Parse(env)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot: configuration: %v\n", err)
		return 2
	}
	m := app.NewMain(cfg, strings.NewReader(""), io.Discard, stderr)
	if err := errors.Join(m.Run(ctx), m.Close()); err != nil {
		fmt.Fprintf(stderr, "newsbot: %v\n", err)
		return 1
	}
	return 0
}

// options are the harness's flags.
type options struct {
	N      int
	Scales []float64
	// Groups, ChattyGroups, CommandsPerGroup, Inject429 and RetryAfterMax
	// shape every fan-out run (fanOutSpec); InjectN, when positive, adds
	// a run of that many chats with 429s injected at Inject429.
	Groups           int
	ChattyGroups     int
	CommandsPerGroup int
	Inject429        float64
	RetryAfterMax    int
	InjectN          int
	Stored           int
	Observe          time.Duration
	Keep             bool
	// LogLevel is the bot's NEWSBOT_LOG_LEVEL.
	LogLevel string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("newsbot-harness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var scales string
	quick := fs.Bool("quick", false, "a short run: 300 chats at factor 10, then 40 with 10% 429s (retry_after 1–2 s), 2,000 stored subscriptions")
	fs.IntVar(&o.N, "n", 10_000, "chats due at the same minute")
	groupShare := fs.Float64("groups", 0.05, "the share of the chats that are supergroups")
	fs.IntVar(&o.ChattyGroups, "chatty-groups", 2, "groups that are also sent commands at the start (their replies share the budgets)")
	fs.IntVar(&o.CommandsPerGroup, "commands", 22, "commands sent to each chatty group: past 20, its minute is full")
	fs.Float64Var(&o.Inject429, "inject429", 0.1, "the share of sends answered 429 in the injection run")
	fs.IntVar(&o.RetryAfterMax, "retry-after-max", 5, "injected 429s carry a retry_after of 1 to this many seconds")
	fs.IntVar(&o.InjectN, "inject-n", 0, "chats of a run with 429s injected (0: none), after the fan-outs, at the first factor")
	fs.StringVar(&scales, "scale", "20", "factor(s) the fake's limits and the bot's budgets are multiplied by; a comma list runs each")
	fs.IntVar(&o.Stored, "stored", 100_000, "subscriptions stored for the memory run (0 skips it)")
	fs.DurationVar(&o.Observe, "observe", 5*time.Second, "how long the memory run lets the idle bot poll")
	fs.BoolVar(&o.Keep, "keep", false, "keep the work directory (databases, bot logs)")
	fs.StringVar(&o.LogLevel, "log-level", "warn", "the bot's NEWSBOT_LOG_LEVEL (its log is in the work directory)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *quick {
		o.N, scales, o.Stored, o.Observe = 300, "10", 2_000, 2*time.Second
		o.InjectN, o.RetryAfterMax = 40, 2
	}
	if *groupShare < 0 || *groupShare > 1 || o.Inject429 < 0 || o.Inject429 > 1 || o.RetryAfterMax < 1 || o.InjectN < 0 {
		return o, errors.New("-groups and -inject429 are shares within [0, 1], -retry-after-max at least 1, -inject-n not negative")
	}
	o.Groups = int(float64(o.N) * *groupShare)
	for _, s := range strings.Split(scales, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || f <= 0 {
			return o, fmt.Errorf("-scale %q: want positive numbers", scales)
		}
		o.Scales = append(o.Scales, f)
	}
	if o.N <= 0 || o.Stored < 0 {
		return o, errors.New("-n must be positive and -stored not negative")
	}
	return o, nil
}

// run measures and prints; it exits 1 when a goal is missed.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "newsbot-harness: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "newsbot-harness-")
	if err != nil {
		fmt.Fprintf(stderr, "newsbot-harness: %v\n", err)
		return 1
	}
	if o.Keep {
		fmt.Fprintf(stdout, "work directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	fanOuts, st, err := measure(ctx, botCommand{Path: self, Env: []string{roleEnv + "=bot", "NEWSBOT_LOG_LEVEL=" + o.LogLevel}}, dir, o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot-harness: %v\n", err)
		return 1
	}
	missed := false
	for _, r := range fanOuts {
		missed = missed || !r.goalsMet()
	}
	if o.Stored > 0 && st.HWM > 100<<20 {
		missed = true
	}
	if missed {
		fmt.Fprintln(stdout, "a goal was missed")
		return 1
	}
	return 0
}

// measure runs the fan-out at each factor and then the memory run, printing
// the figures as they come.
func measure(ctx context.Context, bc botCommand, dir string, o options, out io.Writer) ([]fanOutResult, storedResult, error) {
	var specs []fanOutSpec
	for _, scale := range o.Scales {
		specs = append(specs, fanOutSpec{N: o.N, Scale: scale, Groups: o.Groups, ChattyGroups: o.ChattyGroups, CommandsPerGroup: o.CommandsPerGroup})
	}
	if o.InjectN > 0 {
		specs = append(specs, fanOutSpec{N: o.InjectN, Scale: o.Scales[0], Groups: o.InjectN * o.Groups / o.N,
			Inject429: o.Inject429, RetryAfterMax: o.RetryAfterMax})
	}
	var results []fanOutResult
	for i, spec := range specs {
		sub, err := os.MkdirTemp(dir, fmt.Sprintf("fanout-%d-", i))
		if err != nil {
			return nil, storedResult{}, err
		}
		r, err := fanOut(ctx, bc, sub, spec)
		if err != nil {
			return nil, storedResult{}, fmt.Errorf("fan-out of %d at factor %g: %w", spec.N, spec.Scale, err)
		}
		printFanOut(out, r)
		results = append(results, r)
	}
	var st storedResult
	if o.Stored > 0 {
		sub, err := os.MkdirTemp(dir, "stored-")
		if err != nil {
			return nil, st, err
		}
		if st, err = stored(ctx, bc, sub, o.Stored, o.Observe); err != nil {
			return nil, st, fmt.Errorf("memory with %d subscriptions: %w", o.Stored, err)
		}
		fmt.Fprintf(out, "stored: %d subscriptions, none due: bot RSS %.1f MB, peak (VmHWM) %.1f MB after %s of polling (goal ≤ 100 MB) %s\n",
			st.Subscriptions, mb(st.RSS), mb(st.HWM), st.Observed, verdict(st.HWM <= 100<<20))
	}
	if _, hwm, err := procMemory("/proc/self/status"); err == nil {
		fmt.Fprintf(out, "harness process (fake Telegram server and its message log): VmHWM %.1f MB\n", mb(hwm))
	}
	return results, st, nil
}

// goalsMet: every chat gets its briefing once; without injected 429s the
// budget is used (ratio ≥ 0.95) and the fake never has to say 429, nor sees
// a send inside a retry_after; with them, what reaches it inside a
// retry_after is at most what was in flight when the 429 came.
func (r fanOutResult) goalsMet() bool {
	ok := r.Count.Lost == 0 && r.Count.Duplicated == 0 && r.InsideRetryAfter <= r.InFlightAt429
	if r.Inject429 == 0 {
		ok = ok && r.Ratio() >= 0.95 && r.Rejected429 == 0 && r.InsideRetryAfter == 0
	}
	return ok
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func printFanOut(out io.Writer, r fanOutResult) {
	l := r.Limits
	scaledPer := func(d time.Duration) string {
		if r.Scale == 1 {
			return d.String()
		}
		return fmt.Sprintf("%s ÷ %g", d, r.Scale)
	}
	fmt.Fprintf(out, "fan-out: %d chats (%d supergroups", r.N, r.Groups)
	if r.ChattyGroups > 0 {
		fmt.Fprintf(out, ", %d of them sent %d commands", r.ChattyGroups, r.CommandsPerGroup)
	}
	fmt.Fprintf(out, ") due at the same minute; Telegram limits ×%g in the strict fake and the bot (TELEGRAM_RATE_SCALE=%g)", r.Scale, r.Scale)
	if r.Inject429 > 0 {
		fmt.Fprintf(out, "; %.0f%% of sends answered 429 with retry_after 1–%d s", 100*r.Inject429, r.RetryAfterMax)
	}
	fmt.Fprintln(out)
	ratio := fmt.Sprintf("(goal ≥ 0.95) %s", verdict(r.Ratio() >= 0.95))
	if r.Inject429 > 0 {
		ratio = "(no goal: every 429 pauses every send)"
	}
	fmt.Fprintf(out, "  send rate: %.1f/s achieved of %.0f/s allowed = %.3f %s; %d briefings and %d replies, the first briefing to the last in %.1f s\n",
		r.Achieved, r.Allowed, r.Ratio(), ratio, r.Count.Messages, r.Replies, r.Elapsed.Seconds())
	fmt.Fprintf(out, "  busiest windows: %d of %d in one global window (%s), %d of %d to one group in one window (%s), %d of %d to one chat in one window (%s)\n",
		r.BusiestGlobal, l.Global.Count, scaledPer(l.Global.Per), r.BusiestGroup, l.PerGroup.Count, scaledPer(l.PerGroup.Per),
		r.BusiestChat, l.PerChat.Count, scaledPer(l.PerChat.Per))
	insideOK := r.InsideRetryAfter <= r.InFlightAt429 && (r.Inject429 > 0 || r.InsideRetryAfter == 0)
	fmt.Fprintf(out, "  429s from the limits: %d %s   injected 429s: %d   sends inside a running retry_after: %d (in flight when the 429s came: %d) %s\n",
		r.Rejected429, verdict(r.Rejected429 == 0 || r.Inject429 > 0), r.Injected429, r.InsideRetryAfter, r.InFlightAt429, verdict(insideOK))
	fmt.Fprintf(out, "  lost: %d %s   duplicated: %d %s   bot peak RSS (VmHWM): %.1f MB\n",
		r.Count.Lost, verdict(r.Count.Lost == 0), r.Count.Duplicated, verdict(r.Count.Duplicated == 0), mb(r.PeakRSS))
}
