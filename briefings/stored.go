package briefings

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// MarshalBriefing encodes a briefing the way stores keep it in the delivery
// ledger, so a restarted process resumes a delivery with the very briefing
// it started: JSON with field names of its own (renaming a Go field cannot
// change what is stored), times as Unix microseconds.
func MarshalBriefing(b Briefing) ([]byte, error) {
	sb := storedBriefing{
		Topics:      storedTopics{Include: b.Topics.Include, Exclude: b.Topics.Exclude},
		GeneratedAt: b.GeneratedAt.UnixMicro(),
		Entries:     make([]storedEntry, len(b.Entries)),
	}
	for i, e := range b.Entries {
		se := storedEntry{StoryID: e.StoryID, Headline: e.Headline, Summary: e.Summary, Published: e.Published.UnixMicro()}
		for _, s := range e.Sources {
			se.Sources = append(se.Sources, storedSource{Outlet: s.Outlet, Title: s.Title, URL: s.URL})
		}
		sb.Entries[i] = se
	}
	return json.Marshal(sb)
}

// UnmarshalBriefing decodes what MarshalBriefing encoded. Times come back in
// UTC; the zero time comes back as the zero time.Time.
func UnmarshalBriefing(data []byte) (Briefing, error) {
	var sb storedBriefing
	if err := json.Unmarshal(data, &sb); err != nil {
		return Briefing{}, fmt.Errorf("stored briefing: %w", err)
	}
	b := Briefing{
		Topics:      Topics{Include: sb.Topics.Include, Exclude: sb.Topics.Exclude},
		GeneratedAt: time.UnixMicro(sb.GeneratedAt).UTC(),
		Entries:     make([]Entry, len(sb.Entries)),
	}
	for i, se := range sb.Entries {
		e := Entry{StoryID: se.StoryID, Headline: se.Headline, Summary: se.Summary, Published: time.UnixMicro(se.Published).UTC()}
		for _, s := range se.Sources {
			e.Sources = append(e.Sources, SourceLink{Outlet: s.Outlet, Title: s.Title, URL: s.URL})
		}
		b.Entries[i] = e
	}
	return b, nil
}

type storedBriefing struct {
	Topics      storedTopics  `json:"topics"`
	GeneratedAt int64         `json:"generated_at"`
	Entries     []storedEntry `json:"entries"`
}

type storedTopics struct {
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

type storedEntry struct {
	StoryID   int64          `json:"story_id"`
	Headline  string         `json:"headline"`
	Summary   []string       `json:"summary,omitempty"`
	Sources   []storedSource `json:"sources,omitempty"`
	Published int64          `json:"published"`
}

type storedSource struct {
	Outlet string `json:"outlet"`
	Title  string `json:"title"`
	URL    string `json:"url"`
}

// NewOwnerID names a process in delivery and feed claims: readable in the
// database (host and pid) and unique across restarts and instances (a random
// suffix).
func NewOwnerID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "host"
	}
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
