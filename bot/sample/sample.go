// Package sample holds the feeds newsbot reads while no feed is configured, so
// that a fresh checkout briefs real-looking news with no network: one outlet
// each in RSS, Atom and JSON Feed, the reference story told by two of them.
package sample

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/feeds"
)

//go:embed *.xml *.atom *.json
var files embed.FS

// baseURLs are the addresses the sample feeds pretend to come from.
var baseURLs = map[string]string{
	"eastern-monitor.xml": "https://eastern-monitor.example/feed.xml",
	"global-wire.atom":    "https://global-wire.example/feed.atom",
	"science-desk.json":   "https://science-desk.example/feed.json",
}

// Items parses every embedded feed.
func Items() ([]briefings.Item, error) {
	names, err := fs.Glob(files, "*")
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	var items []briefings.Item
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("sample: %w", err)
		}
		feed, err := feeds.ParseFeed(baseURLs[name], bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", name, err)
		}
		items = append(items, feed.Items...)
	}
	return items, nil
}
