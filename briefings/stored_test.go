package briefings

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestStoredBriefingRoundTrip: a delivery resumed after a restart renders
// the same briefing it started, times to the microsecond, in UTC.
func TestStoredBriefingRoundTrip(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	b := Briefing{
		Topics:      Topics{Include: []string{"ukraine"}, Exclude: []string{"sport"}},
		GeneratedAt: time.Date(2025, 7, 11, 7, 30, 0, 123456000, berlin),
		Entries: []Entry{{
			StoryID: 7, Headline: `Rubio & Lavrov "meet"`, Summary: []string{"One.", "Two."},
			Sources:   []SourceLink{{Outlet: "Wire", Title: "T", URL: "https://w.example/a"}},
			Published: time.Date(2025, 7, 10, 12, 5, 0, 0, time.UTC),
		}, {StoryID: 8, Headline: "No summary yet"}},
	}
	data, err := MarshalBriefing(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"story_id":7`) || !strings.Contains(string(data), `"generated_at":`) {
		t.Errorf("stored field names changed: %s", data)
	}
	got, err := UnmarshalBriefing(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !got.Entries[1].Published.IsZero() {
		t.Errorf("a zero time came back as %v", got.Entries[1].Published)
	}
	if _, err := UnmarshalBriefing([]byte(`{"entries": 5}`)); err == nil {
		t.Error("a malformed stored briefing was accepted")
	}
	if a, b := NewOwnerID(), NewOwnerID(); a == b || a == "" {
		t.Errorf("owner ids %q and %q are not unique", a, b)
	}
}
