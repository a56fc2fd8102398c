// Package article reads the article an item links to: it fetches the page
// with the guards feeds are fetched with, and extracts its main text, title,
// date and language with go-trafilatura.
//
// Parsing is separate from fetching. Extract reads a page already in hand
// (it does no I/O beyond its reader and never panics, whatever the bytes);
// Fetcher implements briefings.ArticleFetcher on top of it. ScorePage and
// Aggregate are the extraction benchmark's metric, for the eval-extract
// command and the benchmarks.
package article
