package briefings

import "context"

// Article is what a summarizer reads: one outlet's telling of a story.
type Article struct {
	Title string
	Text  string // plain text
}

// Summarizer turns an article into at most three sentences taken from it.
type Summarizer interface {
	Summarize(ctx context.Context, a Article) ([]string, error)
}
