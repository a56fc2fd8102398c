package summarize

import (
	"context"
	"strings"
	"testing"

	"github.com/newsbot/newsbot/briefings"
)

// pageTexts are article pages as an extractor gives them (paragraphs
// separated by blank lines), each with the furniture that slips through in
// one outlet's layout, and the story's own sentences.
var pageTexts = []struct {
	name      string
	text      string
	furniture []string // none of these may reach a summary
	story     []string // the summary has at least two of these
}{
	{
		name: "wire story with byline, dateline and credits",
		text: `By Jane Smith and Tom Brown

4 min read

WASHINGTON (Reuters) - The U.S. Senate on Thursday passed a $95 billion aid package for Ukraine, Israel and Taiwan after months of delay, sending the bill to the House of Representatives.

The measure passed 70 to 29, with 22 Republicans joining most Democrats in support of the package.

Photo: Senate Majority Leader Chuck Schumer speaks to reporters at the U.S. Capitol (Reuters/Evan Vucci)

House Speaker Mike Johnson has said he will not bring the bill to a vote without new measures on border security.

Advertisement · Scroll to continue

Reporting by Jane Smith and Tom Brown; Editing by Ann Lee.

Our Standards: The Thomson Reuters Trust Principles.`,
		furniture: []string{"By Jane Smith", "4 min read", "Photo:", "Advertisement", "Reporting by", "Our Standards"},
		story: []string{
			"The U.S. Senate on Thursday passed a $95 billion aid package for Ukraine, Israel and Taiwan after months of delay, sending the bill to the House of Representatives.",
			"The measure passed 70 to 29, with 22 Republicans joining most Democrats in support of the package.",
			"House Speaker Mike Johnson has said he will not bring the bill to a vote without new measures on border security.",
		},
	},
	{
		name: "local news page with newsletter box, cookies and share prompts",
		text: `We use cookies to personalise content and ads, and to analyse our traffic. By continuing to browse, you agree to our use of cookies.

Share on Facebook Share on Twitter Email

Firefighters in Sacramento County battled a fast-moving grass fire on Tuesday that destroyed four homes and forced the evacuation of about 300 residents.

Sign up for our Morning Briefing newsletter to get the day's top stories in your inbox.

The blaze began shortly after 2 p.m. near Highway 50 and spread across 120 acres within an hour, fire officials said.

(Getty Images)

No injuries were reported, but two firefighters were treated for heat exhaustion at the scene.

Related: Wildfire season arrives early after a dry winter.

Read more: How to prepare your home for wildfire season.

Thank you for subscribing! You can unsubscribe at any time.`,
		furniture: []string{"cookies", "Share on", "Sign up", "Getty", "Related:", "Read more", "subscribing", "unsubscribe"},
		story: []string{
			"Firefighters in Sacramento County battled a fast-moving grass fire on Tuesday that destroyed four homes and forced the evacuation of about 300 residents.",
			"The blaze began shortly after 2 p.m. near Highway 50 and spread across 120 acres within an hour.",
			"No injuries were reported, but two firefighters were treated for heat exhaustion at the scene.",
		},
	},
	{
		name: "broadcaster page with image captions and a long caption without punctuation",
		text: `Image source, Getty Images

Image caption, Rescue teams worked through the night in the flooded town of Valencia.

At least 95 people have died in flash floods in eastern Spain, the worst the country has seen in decades, officials say.

Rescue teams worked through the night to reach people stranded on the roofs of their homes and in their cars as a month's rain fell in eight hours.

Residents wade through a flooded street in the town of Paiporta near Valencia on Wednesday morning after the storm

Spain's Prime Minister Pedro Sánchez has declared three days of national mourning and promised the victims would get all the help they need.

Listen to the latest on our podcast, Global News.

Follow BBC News on Twitter and Instagram.`,
		furniture: []string{"Image source", "Image caption", "Residents wade", "Listen", "Follow"},
		story: []string{
			"At least 95 people have died in flash floods in eastern Spain, the worst the country has seen in decades, officials say.",
			"Rescue teams worked through the night to reach people stranded on the roofs of their homes and in their cars as a month's rain fell in eight hours.",
			"Spain's Prime Minister Pedro Sánchez has declared three days of national mourning and promised the victims would get all the help they need.",
		},
	},
}

func TestSummarizePageText(t *testing.T) {
	s := New(Options{})
	for _, p := range pageTexts {
		t.Run(p.name, func(t *testing.T) {
			sum, err := s.Summarize(context.Background(), briefings.Article{Text: p.text})
			if err != nil {
				t.Fatal(err)
			}
			checkExtractive(t, p.text, sum)
			got := strings.Join(sum, "\n")
			for _, f := range p.furniture {
				if strings.Contains(got, f) {
					t.Errorf("summary carries page furniture %q:\n%s", f, got)
				}
			}
			found := 0
			for _, sent := range sum {
				for _, st := range p.story {
					if sent == st {
						found++
					}
				}
			}
			if found < 2 || found != len(sum) {
				t.Errorf("summary has %d of the story's sentences in %d, want at least 2 and nothing else:\n%s", found, len(sum), got)
			}
		})
	}
}

// TestSplitSentencesPageParagraphs holds the splitter to the blank lines of
// page text: a paragraph's words without end punctuation (a caption, a
// credit, a cut line) are never a sentence of a summary, however long.
func TestSplitSentencesPageParagraphs(t *testing.T) {
	text := "Rescue teams worked through the night. They reached 40 people.\n\n" +
		"Residents wade through a flooded street in the town of Paiporta near Valencia on Wednesday morning after the storm passed overnight\n\n" +
		"The storm moved north. Forecasters expect more rain on Friday and the weekend across the region\n\n" +
		"Image caption, Rescuers in Valencia"
	var got []string
	for _, s := range SplitSentences(text) {
		if !s.Heading {
			got = append(got, s.Text)
		}
	}
	want := []string{"Rescue teams worked through the night.", "They reached 40 people.", "The storm moved north."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sentences that may be summarized:\n got %q\nwant %q", got, want)
	}
}
