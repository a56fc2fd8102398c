package briefings

import "time"

// Briefing is what a chat receives: a few entries, each one story.
// Adapters render it in their platform's format.
type Briefing struct {
	Topics      Topics // the filter it was composed with; empty for everything
	GeneratedAt time.Time
	Entries     []Entry
}

// Entry is one story in a briefing.
type Entry struct {
	StoryID   int64
	Headline  string
	Summary   []string
	Sources   []SourceLink
	Published time.Time
}

// SourceLink is one outlet's article behind an entry.
type SourceLink struct {
	Outlet string
	Title  string
	URL    string
}
