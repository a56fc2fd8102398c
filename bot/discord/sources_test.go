package discord

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/bot"
)

func sourcesData(sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) discordgo.ApplicationCommandInteractionData {
	return discordgo.ApplicationCommandInteractionData{Name: "sources", Options: []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: sub, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}}}
}

func TestSourcesOptionsMakeTheTextGrammarsCommand(t *testing.T) {
	str := func(name, v string) *discordgo.ApplicationCommandInteractionDataOption {
		return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
	}
	boolean := func(v bool) *discordgo.ApplicationCommandInteractionDataOption {
		return &discordgo.ApplicationCommandInteractionDataOption{Name: optInclude, Type: discordgo.ApplicationCommandOptionBoolean, Value: v}
	}
	for _, tc := range []struct {
		data discordgo.ApplicationCommandInteractionData
		text string
	}{
		{sourcesData(subList), "/sources"},
		{sourcesData(subAdd, str(optURL, " https://example.com/feed.xml\n/brief ")), "/sources add https://example.com/feed.xml /brief"},
		{sourcesData(subAdd, str(optURL, "https://example.com/feed.xml")), "/sources add https://example.com/feed.xml"},
		{sourcesData(subRemove, str(optFeed, "2")), "/sources remove 2"},
		{sourcesData(subDefault, boolean(false)), "/sources default off"},
		{sourcesData(subDefault, boolean(true)), "/sources default on"},
		{sourcesData(subImport), "/sources import"},
		{sourcesData(subExport), "/sources export"},
	} {
		got, _, gotErr := commandFromInteraction(tc.data, "c1")
		want, wantErr := bot.ParseCommand(tc.text, "")
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Errorf("%s: error %v, want %v", tc.text, gotErr, wantErr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.text, diff)
		}
	}
}

func TestImportAttachmentDownload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big.opml" {
			w.Write([]byte(strings.Repeat("x", bot.MaxDocumentBytes+10)))
			return
		}
		w.Write([]byte("<opml/>"))
	}))
	defer srv.Close()
	a := &Adapter{}
	data := sourcesData(subImport, &discordgo.ApplicationCommandInteractionDataOption{Name: optFile, Type: discordgo.ApplicationCommandOptionAttachment, Value: "111"})
	data.Resolved = &discordgo.ApplicationCommandInteractionDataResolved{Attachments: map[string]*discordgo.MessageAttachment{
		"111": {ID: "111", Filename: "feeds.opml", Size: 7, URL: srv.URL + "/feeds.opml"}}}
	doc := a.attachedDocument(data)
	if doc == nil || doc.Name != "feeds.opml" || doc.Size != 7 {
		t.Fatalf("attachedDocument = %+v, want feeds.opml of 7 bytes", doc)
	}
	rc, err := doc.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	if string(body) != "<opml/>" {
		t.Errorf("downloaded %q", body)
	}
	rc, err = downloadAttachment(t.Context(), http.DefaultClient, srv.URL+"/big.opml")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(rc)
	if len(body) != bot.MaxDocumentBytes+1 {
		t.Errorf("a large attachment read %d bytes, want the cap + 1 (%d) so the handler refuses it", len(body), bot.MaxDocumentBytes+1)
	}
	if _, err := downloadAttachment(t.Context(), http.DefaultClient, "file:///etc/passwd"); err == nil {
		t.Error("a file: attachment address was read")
	}
	if d := a.attachedDocument(sourcesData(subList)); d != nil {
		t.Errorf("/sources list carries a document %+v", d)
	}
}
