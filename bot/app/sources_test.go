package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
)

const harbourFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Harbour Weekly</title>
<item><title>Harbour ferry returns after repairs</title><link>http://harbour.test/ferry</link>
<pubDate>Fri, 11 Jul 2025 11:00:00 +0000</pubDate>
<description>The ferry to the islands sails again on Friday after six weeks of repairs, the port said.</description></item>
</channel></rss>`

// A group follows its own feeds on Telegram: administrators add them by
// address or with an .opml document, anyone lists them and reads them in
// /brief, and /sources export comes back as a document.
func TestTelegramChatSources(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	const group, member, admin = -2002, 21, 22
	for _, err := range []error{
		srv.AddGroup(group, "Harbour club", true),
		srv.SetMember(group, member, telegramtest.StatusMember),
		srv.SetMember(group, admin, telegramtest.StatusAdministrator),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	harbour, hostile := serveFeed(t, harbourFeed), serveFeed(t, hostileFeed)
	env := tgEnv(t, srv)
	env["NEWSBOT_ALLOW_PRIVATE_FEEDS"] = "true"
	startTelegramMain(t, env)
	at := "@" + telegramtest.DefaultBotUsername

	got := say(t, srv, group, member, "/sources"+at+" add "+harbour, 1)
	if want := "Only the chat's administrators can change its feeds. Anyone can list them with /sources."; got[0].PlainText != want {
		t.Errorf("member's /sources add: %q, want %q", got[0].PlainText, want)
	}
	got = say(t, srv, group, admin, "/sources add "+harbour, 2)
	if want := "Added Harbour Weekly (" + harbour + "). Latest: “Harbour ferry returns after repairs”."; !strings.HasPrefix(got[1].PlainText, want) {
		t.Errorf("admin's /sources add: %q, want it to start %q", got[1].PlainText, want)
	}
	got = say(t, srv, group, member, "/brief"+at, 3)
	if !strings.Contains(got[2].PlainText, "Harbour ferry returns after repairs") {
		t.Errorf("/brief after adding a feed: %q, want its story", got[2].PlainText)
	}

	opml := fmt.Sprintf(`<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
		<outline text="Hostile" xmlUrl="%s"/><outline text="Harbour" xmlUrl="%s"/></body></opml>`, hostile, harbour)
	if _, err := srv.SendDocument(group, admin, "feeds.opml", "text/x-opml", []byte(opml), ""); err == nil {
		t.Error("a document without a command reached the bot in a group with privacy mode on")
	}
	if _, err := srv.SendDocument(group, member, "feeds.opml", "text/x-opml", []byte(opml), "/sources"+at+" import"); err != nil {
		t.Fatal(err)
	}
	got, err := srv.WaitForMessages(waitCtx(t), group, 4)
	if err != nil || !strings.HasPrefix(got[3].PlainText, "Only the chat's administrators") {
		t.Fatalf("member's import: %q, %v", plainTexts(got), err)
	}
	if _, err := srv.SendDocument(group, admin, "feeds.opml", "text/x-opml", []byte(opml), "/sources import"); err != nil {
		t.Fatal(err)
	}
	got, err = srv.WaitForMessages(waitCtx(t), group, 5)
	if err != nil || !strings.HasPrefix(got[4].PlainText, "Imported the feed list: 1 added, 1 already there, 0 failed.") {
		t.Fatalf("admin's import: %q, %v", plainTexts(got), err)
	}
	if getFile, downloads := srv.FileRequests(); getFile != 1 || downloads != 1 {
		t.Errorf("the import asked getFile %d times and downloaded %d files, want 1 and 1 (the refused one needs none)", getFile, downloads)
	}

	if _, err := srv.SendText(group, member, "/sources"+at+" export"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Documents(group)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	docs := srv.Documents(group)
	if len(docs) != 1 {
		t.Fatalf("/sources export sent %d documents, want 1", len(docs))
	}
	for _, u := range []string{harbour, hostile} {
		if !strings.Contains(string(docs[0].Data), `xmlUrl="`+u+`"`) {
			t.Errorf("the exported OPML lacks %s:\n%s", u, docs[0].Data)
		}
	}
	if !strings.HasSuffix(docs[0].FileName, ".opml") || !strings.Contains(docs[0].Caption, "2 feed(s)") {
		t.Errorf("exported document %q captioned %q", docs[0].FileName, docs[0].Caption)
	}
}
