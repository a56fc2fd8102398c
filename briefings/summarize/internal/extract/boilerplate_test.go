package extract

import (
	"strings"
	"testing"
)

// TestBoilerplate holds the furniture shapes to lines of the kinds web
// pages let through an extractor, worded as different outlets word them, and
// to story sentences that share their vocabulary.
func TestBoilerplate(t *testing.T) {
	tests := []struct {
		line string
		junk bool
	}{
		// Calls to action.
		{"Sign up for our morning newsletter and get the top stories delivered to your inbox.", true},
		{"Subscribe to The Daily Brief for the day's biggest stories.", true},
		{"Follow Reuters Business on Twitter for the latest updates.", true},
		{"Download the NewsNow app for breaking news alerts.", true},
		{"Read the full report here.", true},
		{"Share your photos and videos with us.", true},
		{"Click here to see more pictures from the scene.", true},
		{"Watch the latest video at foxnews.com.", true},
		{"Listen to the full interview on our podcast.", true},
		{"Get unlimited digital access for $1 a week.", true},
		// The site's voice about the page.
		{"We use cookies to personalise content and ads and to analyse our traffic.", true},
		{"By continuing to use this site, you consent to our use of cookies.", true},
		{"You can unsubscribe at any time.", true},
		{"Thank you for subscribing!", true},
		{"Please enable JavaScript to view the comments.", true},
		{"Your browser does not support JavaScript, which this player needs.", true},
		// Labels, credits and bylines.
		{"Photo: Firefighters battle the blaze near Malibu on Tuesday.", true},
		{"Related: How the Fed decides on interest rates.", true},
		{"READ MORE: Storm leaves thousands without power.", true},
		{"See also: Ten things to know before you travel.", true},
		{"AP Photo: A man walks past the damaged building.", true},
		{"Image caption, Firefighters tackled the blaze for six hours.", true},
		{"By Jane Smith and John O'Neill, Reuters.", true},
		{"BY MARIA GARCIA | Staff Writer.", true},
		{"AP Photo/Evan Vucci.", true},
		{"Reporting by Tom Brown; Editing by Ann Lee.", true},
		{"This article was originally published on The Conversation.", true},
		{"© 2024 Example Media Group. All rights reserved.", true},
		// Story sentences with the same words.
		{"Millions of households subscribe to at least two streaming services, the survey found.", false},
		{"The app was downloaded three million times in its first week on sale.", false},
		{"Regulators fined the company €150 million over its cookie consent banners.", false},
		{"'We will not let them silence us,' she told the crowd in Kyiv.", false},
		{"Read, a 42-year-old teacher, was arrested at his home in Leeds on Monday.", false},
		{"The message read: 'We have arrived safely at the base camp.'", false},
		{"By Tuesday evening, rescuers had pulled 14 people from the rubble.", false},
		{"Photographers were kept behind a barrier outside the court.", false},
		{"Share prices fell 4 per cent after the announcement.", false},
		{"Follow-up tests showed the water was safe to drink.", false},
		{"Police said they were following several lines of inquiry.", false},
		{"Watchdogs say the new rules do not go far enough.", false},
		// Story sentences of real pages that earlier forms of the rules dropped.
		{"In case you are living in Delhi, chances are you have an app or two to find out the air quality in your area.", false},
		{"Try listening to your body to recognize when hunger tapers off.", false},
		{"The entry-level 13-inch MacBook Pro was last updated in July, while higher-end models were refreshed in May.", false},
		{"Wall Street analysts are trying to assess how many streaming services consumers will sign up for.", false},
		{"(Watergate, remember, took more than two years to unfold.)", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c := Prepare([]string{tt.line}, true, DefaultIDF())[0]
			if c.Junk != tt.junk {
				t.Errorf("Prepare(%q): junk = %v, want %v (cleaned %q)", tt.line, c.Junk, tt.junk, c.Text)
			}
		})
	}
}

func TestHashFold(t *testing.T) {
	for _, w := range []string{"Photo", "READ", "Ångström", "by", ""} {
		if got, want := hashFold(w), hashWord(strings.ToLower(w)); got != want {
			t.Errorf("hashFold(%q) = %x, want hashWord of its lower case %x", w, got, want)
		}
	}
}

// FuzzPrepare holds cleaning of page text to "never adds a word": every
// candidate's text is its sentence's own words, in order.
func FuzzPrepare(f *testing.F) {
	for _, s := range []string{
		"Photo: Firefighters battle the blaze (Reuters)",
		"By Jane Smith, CNN. WASHINGTON (Reuters) - The Senate passed the bill.",
		"Sign up for our newsletter. We use cookies. Read more: Storm hits.",
		"NEW YORK (Mental Floss) -- A b c d e f g.",
		"Image caption, A b c. By . X . PUBLISHED: . 1 2013 . Y z.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sents := []string{s, s + " " + s}
		for _, cased := range []bool{true, false} {
			for i, c := range Prepare(sents, cased, DefaultIDF()) {
				if !isSubsequence(words(c.Text), words(sents[i])) {
					t.Fatalf("Prepare(%q) gave %q: words not taken in order from the sentence", sents[i], c.Text)
				}
			}
		}
	})
}
