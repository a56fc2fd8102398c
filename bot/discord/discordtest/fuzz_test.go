package discordtest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeMessage: any body is either refused with a 400 or accepted
// within every documented limit; it never panics.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"content":"hello"}`))
	f.Add([]byte(`{"embeds":[{"title":"t","fields":[{"name":"n","value":"v"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeMessage(body)
		if err != nil {
			if err.status != http.StatusBadRequest {
				t.Fatalf("refusal with HTTP %d", err.status)
			}
			return
		}
		if in.Content != nil && utf8.RuneCountInString(*in.Content) > MaxContentLength {
			t.Fatalf("accepted content of %d characters", utf8.RuneCountInString(*in.Content))
		}
		if in.Embeds == nil {
			return
		}
		embeds := *in.Embeds
		if len(embeds) > MaxEmbedsPerMessage {
			t.Fatalf("accepted %d embeds", len(embeds))
		}
		total := 0
		for _, e := range embeds {
			total += embedSize(e)
			if utf8.RuneCountInString(e.Title) > MaxEmbedTitle || utf8.RuneCountInString(e.Description) > MaxEmbedDescription ||
				len(e.Fields) > MaxEmbedFields || e.Color < 0 || e.Color > MaxEmbedColor {
				t.Fatalf("accepted embed over a limit: %+v", e)
			}
			for _, fl := range e.Fields {
				if fl.Name == "" || fl.Value == "" || utf8.RuneCountInString(fl.Name) > MaxEmbedFieldName || utf8.RuneCountInString(fl.Value) > MaxEmbedFieldValue {
					t.Fatalf("accepted field %+v", fl)
				}
			}
		}
		if total > MaxEmbedTotal {
			t.Fatalf("accepted %d embed characters", total)
		}
	})
}

// FuzzMentions: every ping comes from a mention in the content, and
// "parse": [] pings nobody whatever the content.
func FuzzMentions(f *testing.F) {
	f.Add("@everyone <@123> <@!456> <@&789>")
	f.Add("<@<@1>>")
	f.Fuzz(func(t *testing.T, content string) {
		all := pingContext{defaultParse: messageDefaultParse, canMentionEveryone: true}
		p := computePings(content, nil, all)
		for _, id := range p.Users {
			if !strings.Contains(content, "<@"+id+">") && !strings.Contains(content, "<@!"+id+">") {
				t.Fatalf("pinged user %q not mentioned in %q", id, content)
			}
		}
		for _, id := range p.Roles {
			if !strings.Contains(content, "<@&"+id+">") {
				t.Fatalf("pinged role %q not mentioned in %q", id, content)
			}
		}
		if p.Everyone != (strings.Contains(content, "@everyone") || strings.Contains(content, "@here")) {
			t.Fatalf("everyone = %v for %q", p.Everyone, content)
		}
		if none := computePings(content, &AllowedMentions{Parse: []string{}}, all); !none.Nobody() {
			t.Fatalf(`parse [] pinged %+v for %q`, none, content)
		}
	})
}

// FuzzDecodeCommands: accepted commands satisfy the documented name,
// description and count rules; nothing panics.
func FuzzDecodeCommands(f *testing.F) {
	f.Add([]byte(`[{"name":"brief","description":"The news now"}]`))
	f.Add([]byte(`[{"name":"topics","description":"d","options":[{"type":1,"name":"add","description":"d","options":[{"type":3,"name":"topic","description":"d","required":true}]}]}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cmds, err := decodeCommands(body)
		if err != nil {
			if err.status != http.StatusBadRequest {
				t.Fatalf("refusal with HTTP %d", err.status)
			}
			return
		}
		names := map[string]bool{}
		for _, c := range cmds {
			key := string(rune('0'+c.Type)) + c.Name
			if names[key] {
				t.Fatalf("accepted duplicate %q", c.Name)
			}
			names[key] = true
			if c.Type != CommandTypeChatInput {
				continue
			}
			if !chatInputNamePattern.MatchString(c.Name) || strings.ToLower(c.Name) != c.Name {
				t.Fatalf("accepted name %q", c.Name)
			}
			if n := utf8.RuneCountInString(c.Description); n < 1 || n > MaxCommandDescriptionLength {
				t.Fatalf("accepted description of %d characters", n)
			}
			checkOptions(t, c.Options)
		}
	})
}

func checkOptions(t *testing.T, opts []CommandOption) {
	t.Helper()
	if len(opts) > MaxCommandOptions {
		t.Fatalf("accepted %d options", len(opts))
	}
	for _, o := range opts {
		if o.Type < OptionSubCommand || o.Type > OptionAttachment || len(o.Choices) > MaxCommandChoices {
			t.Fatalf("accepted option %+v", o)
		}
		if o.Autocomplete && len(o.Choices) > 0 {
			t.Fatalf("accepted autocomplete with choices: %+v", o)
		}
		if slices.Contains([]int{OptionSubCommand, OptionSubCommandGroup}, o.Type) {
			checkOptions(t, o.Options)
		}
	}
}
