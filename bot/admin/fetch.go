package admin

import (
	"context"
	"errors"
	"log/slog"

	"github.com/newsbot/newsbot/briefings"
)

// FetchRecorder keeps the result of each feed's latest fetch.
type FetchRecorder interface {
	RecordFetchResult(ctx context.Context, feedURL, result string) error
}

// RecordFetches wraps a Fetcher so that the result of every fetch (ok, not
// modified, or error) is kept for the feeds page, which the feed's stored
// state alone cannot tell: a 304 and a 200 leave it the same.
func RecordFetches(f briefings.Fetcher, rec FetchRecorder, log *slog.Logger) briefings.Fetcher {
	if log == nil {
		log = slog.Default()
	}
	return recordingFetcher{f, rec, log}
}

type recordingFetcher struct {
	briefings.Fetcher
	rec FetchRecorder
	log *slog.Logger
}

func (f recordingFetcher) Fetch(ctx context.Context, src briefings.Source) (briefings.FetchResult, error) {
	res, err := f.Fetcher.Fetch(ctx, src)
	result := briefings.FetchResultOK
	switch {
	case err != nil:
		result = briefings.FetchResultError
	case res.NotModified:
		result = briefings.FetchResultNotModified
	}
	if ctx.Err() == nil {
		if rerr := f.rec.RecordFetchResult(ctx, src.URL, result); rerr != nil && !errors.Is(rerr, briefings.ErrNotFound) {
			f.log.Error("admin: record fetch result", "feed", briefings.RedactURL(src.URL), "err", rerr)
		}
	}
	return res, err
}
