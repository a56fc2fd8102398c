package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/feeds"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

func TestParseSources(t *testing.T) {
	for _, tc := range []struct {
		text    string
		want    bot.SourcesArgs
		wantErr string
	}{
		{text: "/sources", want: bot.SourcesArgs{Op: bot.SourcesList}},
		{text: "/sources list", want: bot.SourcesArgs{Op: bot.SourcesList}},
		{text: "/sources add https://Example.com/Feed.xml", want: bot.SourcesArgs{Op: bot.SourcesAdd, Target: "https://Example.com/Feed.xml"}},
		{text: "/sources ADD example.com", want: bot.SourcesArgs{Op: bot.SourcesAdd, Target: "example.com"}},
		{text: "/sources remove 2", want: bot.SourcesArgs{Op: bot.SourcesRemove, Target: "2"}},
		{text: "/sources remove https://example.com/feed", want: bot.SourcesArgs{Op: bot.SourcesRemove, Target: "https://example.com/feed"}},
		{text: "/sources default off", want: bot.SourcesArgs{Op: bot.SourcesDefault}},
		{text: "/sources default ON", want: bot.SourcesArgs{Op: bot.SourcesDefault, On: true}},
		{text: "/sources export", want: bot.SourcesArgs{Op: bot.SourcesExport}},
		{text: "/sources import", want: bot.SourcesArgs{Op: bot.SourcesImport}},
		{text: "/sources add", wantErr: "/sources add takes one feed or web page address"},
		{text: "/sources add a b", wantErr: "/sources add takes one feed or web page address"},
		{text: "/sources remove", wantErr: "takes one address or the number"},
		{text: "/sources default maybe", wantErr: `takes on or off, not "maybe"`},
		{text: "/sources frobnicate", wantErr: "I don't know /sources frobnicate"},
		{text: "/sources export now", wantErr: "/sources export takes no arguments"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			cmd, err := bot.ParseCommand(tc.text, "")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "for example /sources add") {
					t.Fatalf("ParseCommand(%q) error = %v, want one saying %q with an example", tc.text, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCommand(%q): %v", tc.text, err)
			}
			if cmd.Name != bot.CmdSources {
				t.Fatalf("ParseCommand(%q) = %v, want /sources", tc.text, cmd.Name)
			}
			if diff := cmp.Diff(tc.want, cmd.Sources); diff != "" {
				t.Errorf("ParseCommand(%q) sources (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

const sourcesFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Harbour Weekly</title>
<item><title>Harbour ferry returns after repairs</title><link>https://harbour.example/ferry</link><guid>f1</guid>
<pubDate>Thu, 10 Jul 2025 14:05:00 +0000</pubDate><description>The ferry to the islands sails again on Friday after six weeks of repairs, the port said.</description></item>
</channel></rss>`

// bareSite serves a page with no feed link at every path, so no feed at all.
func bareSite(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><head><title>Nothing</title></head><body>No feed here</body></html>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// sourcesSite serves a feed at /feed.xml and, at its root, a page linking it.
func sourcesSite(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, sourcesFeed)
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>Harbour</body></html>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

var sourcesNow = time.Date(2025, 7, 10, 18, 0, 0, 0, time.UTC)

func sourcesHandler(t *testing.T, limits briefings.SourceLimits) (*bot.Handler, *sqlite.DB) {
	t.Helper()
	store, err := sqlite.Open(t.Context(), sqlite.MemoryPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := briefings.NewService(store, briefings.Options{
		Now:          func() time.Time { return sourcesNow },
		Finder:       feeds.NewFetcher(feeds.Options{AllowPrivate: true, Timeout: 5 * time.Second}),
		FeedLists:    feeds.FeedLists{},
		SourceLimits: limits,
	})
	return &bot.Handler{Service: svc}, store
}

func ask(t *testing.T, h *bot.Handler, req bot.Request, text string) bot.Reply {
	t.Helper()
	req.Text = text
	if req.Chat == (briefings.ChatRef{}) {
		req.Chat = briefings.ChatRef{Platform: briefings.PlatformConsole, ID: "me"}
	}
	return h.Handle(t.Context(), req)
}

func wantText(t *testing.T, r bot.Reply, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.Text, p) {
			t.Errorf("reply %q does not say %q", r.Text, p)
		}
	}
}

func TestSourcesCommands(t *testing.T) {
	site := sourcesSite(t)
	h, store := sourcesHandler(t, briefings.SourceLimits{PerChat: 1})
	req := bot.Request{}

	wantText(t, ask(t, h, req, "/sources"), "no feeds of its own", "/sources add URL", "built-in sample feeds")
	wantText(t, ask(t, h, req, "/sources add "+site.URL+"/"),
		"Added Harbour Weekly ("+site.URL+"/feed.xml)", "Latest: “Harbour ferry returns after repairs”")
	wantText(t, ask(t, h, req, "/sources"), "own feeds (1 of 1)", "1. Harbour Weekly — "+site.URL+"/feed.xml (not read yet)")
	b := ask(t, h, req, "/brief")
	if b.Briefing == nil || len(b.Briefing.Entries) != 1 || b.Briefing.Entries[0].Headline != "Harbour ferry returns after repairs" {
		t.Errorf("/brief after adding a feed = %+v, want its story", b)
	}
	other := bot.Request{Chat: briefings.ChatRef{Platform: briefings.PlatformConsole, ID: "someone else"}}
	if b := ask(t, h, other, "/brief"); b.Briefing != nil {
		t.Errorf("another chat's /brief carries %d entries from a feed only this chat follows", len(b.Briefing.Entries))
	}
	wantText(t, ask(t, h, req, "/sources add "+site.URL+"/feed.xml"), "already follows Harbour Weekly")
	wantText(t, ask(t, h, req, "/sources add https://elsewhere.example/feed"), "already follows 1 feeds, the most it may")

	// The poller failing on every own feed shows in /status.
	if err := store.SaveSourceState(t.Context(), briefings.Source{URL: site.URL + "/feed.xml", Title: "Harbour Weekly",
		LastError: "HTTP 500", Failures: 3, LastFetchedAt: sourcesNow.Add(-time.Hour), NextFetchAt: sourcesNow}); err != nil {
		t.Fatal(err)
	}
	wantText(t, ask(t, h, req, "/status"), "this chat's own feeds (1) is failing")
	wantText(t, ask(t, h, req, "/sources"), "(read 1 h ago: failing, retrying later)")
	if r := ask(t, h, other, "/status"); strings.Contains(r.Text, "failing") {
		t.Errorf("/status of a chat without feeds says %q", r.Text)
	}

	exp := ask(t, h, req, "/sources export")
	if exp.File == nil || !strings.Contains(string(exp.File.Data), `xmlUrl="`+site.URL+`/feed.xml"`) || !strings.HasSuffix(exp.File.Name, ".opml") {
		t.Errorf("/sources export = %+v, want an .opml file with the feed", exp)
	}

	wantText(t, ask(t, h, req, "/sources default off"), "left out", "own 1 feed(s) only")
	wantText(t, ask(t, h, req, "/sources"), "/sources default on brings them back")
	wantText(t, ask(t, h, req, "/sources remove 1"), "Removed Harbour Weekly")
	wantText(t, ask(t, h, req, "/sources remove 1"), `does not follow "1"`)
	if got := ask(t, h, req, "/sources export"); got.File != nil {
		t.Error("/sources export with no feeds sent a file")
	}
}

func TestSourcesAddRefusalsStoreNothing(t *testing.T) {
	site := sourcesSite(t)
	h, store := sourcesHandler(t, briefings.SourceLimits{})
	for _, tc := range []struct{ addr, says string }{
		{bareSite(t).URL + "/nothing", "the page links no feed"},
		{"ftp://example.com/feed", "only http and https"},
		{"http://[::1", "not a web address"},
	} {
		r := ask(t, h, bot.Request{}, "/sources add "+tc.addr)
		wantText(t, r, "Can't add ", tc.says, "Nothing was changed.")
		if strings.Count(r.Text, "\n") != 0 {
			t.Errorf("refusal %q is more than one line", r.Text)
		}
	}
	if srcs, err := store.PollSources(t.Context()); err != nil || len(srcs) != 0 {
		t.Errorf("after refusals the store polls %v (%v), want nothing", srcs, err)
	}
	// The real guards: 127.0.0.1 is refused without NEWSBOT_ALLOW_PRIVATE_FEEDS.
	store2, _ := sqlite.Open(t.Context(), sqlite.MemoryPath)
	defer store2.Close()
	strict := &bot.Handler{Service: briefings.NewService(store2, briefings.Options{Finder: feeds.NewFetcher(feeds.Options{})})}
	wantText(t, ask(t, strict, bot.Request{}, "/sources add "+site.URL+"/feed.xml"), "private or local network")
}

func TestSourcesInGroupsOnlyAdministratorsChange(t *testing.T) {
	site := sourcesSite(t)
	h, _ := sourcesHandler(t, briefings.SourceLimits{})
	member := bot.Request{
		Chat:      briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "-100"},
		MayManage: func(context.Context) (bool, error) { return false, nil },
	}
	for _, cmd := range []string{"/sources add " + site.URL + "/", "/sources remove 1", "/sources default off", "/sources import"} {
		wantText(t, ask(t, h, member, cmd), "Only the chat's administrators can change its feeds")
	}
	wantText(t, ask(t, h, member, "/sources"), "no feeds of its own")
	broken := member
	broken.MayManage = func(context.Context) (bool, error) { return false, errors.New("getChatMember: 502") }
	if r := ask(t, h, broken, "/sources add "+site.URL+"/"); r.Err == nil {
		t.Error("a failed permission check was not reported")
	}
}

func TestSourcesImport(t *testing.T) {
	site := sourcesSite(t)
	h, _ := sourcesHandler(t, briefings.SourceLimits{PerChat: 2})
	opml := fmt.Sprintf(`<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
		<outline text="Harbour" xmlUrl="%[1]s/feed.xml"/>
		<outline text="Harbour again" xmlUrl="%[1]s/"/>
		<outline text="None" xmlUrl="%[2]s/nothing"/>
		<outline text="Over the limit" xmlUrl="https://x.example/feed"/>
		</body></opml>`, site.URL, bareSite(t).URL)
	doc := func(body string) *bot.Document {
		return &bot.Document{Name: "feeds.opml", Size: int64(len(body)), Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(body)), nil
		}}
	}
	req := bot.Request{Document: doc(opml)}
	r := ask(t, h, req, "/sources import")
	wantText(t, r, "1 added, 1 already there, 2 failed", "+ Harbour Weekly", "/nothing: the page links no feed", "x.example/feed: ")
	req.Document = doc("<html>not opml</html>")
	wantText(t, ask(t, h, req, "/sources import"), "not an OPML feed list")
	req.Document = &bot.Document{Name: "big.opml", Size: 5 << 20}
	wantText(t, ask(t, h, req, "/sources import"), "at most 1024 kB")
	wantText(t, ask(t, h, bot.Request{}, "/sources import"), "send me an .opml file")
}
