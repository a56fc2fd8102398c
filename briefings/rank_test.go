package briefings

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestComposeRanking(t *testing.T) {
	now := time.Date(2025, 7, 10, 18, 0, 0, 0, time.UTC)
	item := func(link, outlet string, age time.Duration) Item {
		return Item{Link: link, Outlet: outlet, FeedURL: "https://" + outlet + ".example/feed", Title: "t " + link, Text: "Some text.", Published: now.Add(-age)}
	}
	story := func(id int64, items ...Item) Story {
		st := Story{ID: id, Headline: items[0].Title, Items: items}
		for _, it := range items {
			if it.Published.After(st.Updated) {
				st.Updated = it.Published
			}
		}
		return st
	}
	promo := Item{Link: "https://sponsor.example/offer", FeedURL: "https://www.bbc.co.uk/news/rss.xml", Outlet: "BBC", Title: "Win a cruise for two", Published: now}
	tests := []struct {
		name    string
		stories []Story
		want    []int64
	}{
		{
			name: "more outlets first",
			stories: []Story{
				story(1, item("https://a.example/1", "A", time.Hour)),
				story(2, item("https://a.example/2", "A", 2*time.Hour), item("https://b.example/2", "B", 2*time.Hour)),
			},
			want: []int64{2, 1},
		},
		{
			name: "one outlet's items and feeds count once",
			stories: []Story{
				story(1, item("https://www.bbc.co.uk/news/1", "BBC News - World", 2*time.Hour),
					item("https://www.bbc.co.uk/news/1b", "BBC News - UK", 2*time.Hour),
					item("https://feeds.bbc.co.uk/news/1c", "BBC", 2*time.Hour)),
				story(2, item("https://a.example/2", "A", time.Hour)),
			},
			want: []int64{2, 1},
		},
		{
			name: "newer first among equals",
			stories: []Story{
				story(1, item("https://a.example/1", "A", 3*time.Hour)),
				story(2, item("https://a.example/2", "A", time.Hour)),
			},
			want: []int64{2, 1},
		},
		{
			name: "a text-less headline pointing off the feed's site never leads",
			stories: []Story{
				story(1, promo),
				story(2, item("https://a.example/2", "A", 20*time.Hour)),
			},
			want: []int64{2, 1},
		},
		{
			name: "a labelled promotion never leads, even from the outlet's own site",
			stories: []Story{
				story(1, Item{Link: "https://a.example/deal", FeedURL: "https://a.example/feed", Outlet: "A", Title: "Sponsored: the best VPNs of 2025", Text: "Partner offer.", Published: now}),
				story(2, Item{Link: "https://a.example/p", FeedURL: "https://a.example/feed", Outlet: "A", Title: "Partner content | Travel insurance made simple", Published: now}),
				story(3, item("https://a.example/3", "A", 30*time.Hour)),
			},
			want: []int64{3, 1, 2},
		},
		{
			name: "news about sponsorship is news",
			stories: []Story{
				story(1, item("https://a.example/1", "A", time.Hour)),
				story(2, Item{Link: "https://b.example/2", FeedURL: "https://b.example/feed", Outlet: "B", Title: "State-sponsored hackers hit power grid", Text: "Officials said on Thursday.", Published: now}),
			},
			want: []int64{2, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Compose(now, Topics{}, tt.stories, 5)
			var got []int64
			for _, e := range b.Entries {
				got = append(got, e.StoryID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsPromotionItem(t *testing.T) {
	tests := []struct {
		name string
		it   Item
		want bool
	}{
		{"sponsor's link, no text", Item{FeedURL: "https://rss.cnn.com/rss/edition.rss", Link: "https://ads.example/x", Title: "Doctors stunned by this trick"}, true},
		{"own site, no text", Item{FeedURL: "https://rss.cnn.com/rss/edition.rss", Link: "https://edition.cnn.com/2025/07/10/x", Title: "Live updates"}, false},
		{"aggregator item with text", Item{FeedURL: "https://news.ycombinator.com/rss", Link: "https://blog.example/post", Title: "Show HN", Text: "Comments"}, false},
		{"advertisement label", Item{FeedURL: "https://a.example/f", Link: "https://a.example/x", Title: "Advertisement", Text: "Buy now"}, true},
		{"promoted label", Item{FeedURL: "https://a.example/f", Link: "https://a.example/x", Title: "[Ad] New phones", Text: "x"}, true},
		{"a word starting with a label", Item{FeedURL: "https://a.example/f", Link: "https://a.example/x", Title: "Promotedly odd", Text: "x"}, false},
		{"promotion as a subject", Item{FeedURL: "https://a.example/f", Link: "https://a.example/x", Title: "Manager promoted to CEO", Text: "x"}, false},
	}
	for _, tt := range tests {
		if got := isPromotionItem(tt.it); got != tt.want {
			t.Errorf("%s: isPromotionItem = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSiteOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://www.bbc.co.uk/news":   "bbc.co.uk",
		"http://feeds.bbci.co.uk/news": "bbci.co.uk",
		"https://edition.cnn.com/x":    "cnn.com",
		"https://www.abc.net.au/news":  "abc.net.au",
		"https://localhost:8080/feed":  "localhost",
		"not a url":                    "",
	} {
		if got := siteOf(in); got != want {
			t.Errorf("siteOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDateUndated(t *testing.T) {
	now := time.Date(2025, 7, 10, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		fresh  []time.Time
		recent []time.Time
		want   []time.Time
	}{
		{"nothing dated known: first sighting", []time.Time{{}}, nil, []time.Time{now}},
		{"no newer than the dated news of the batch",
			[]time.Time{{}, now.Add(-3 * time.Hour)}, nil, []time.Time{now.Add(-3 * time.Hour), now.Add(-3 * time.Hour)}},
		{"no newer than the stored news",
			[]time.Time{{}}, []time.Time{now.Add(-time.Hour)}, []time.Time{now.Add(-time.Hour)}},
		{"dated items keep their dates",
			[]time.Time{now.Add(-5 * time.Hour)}, []time.Time{now.Add(-time.Hour)}, []time.Time{now.Add(-5 * time.Hour)}},
	}
	for _, tt := range tests {
		var fresh []Item
		for _, p := range tt.fresh {
			fresh = append(fresh, Item{Published: p})
		}
		var recent []Story
		for _, u := range tt.recent {
			recent = append(recent, Story{Updated: u})
		}
		dateUndated(fresh, recent, now)
		var got []time.Time
		for _, it := range fresh {
			got = append(got, it.Published)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
