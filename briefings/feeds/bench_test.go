package feeds

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkParseFeed measures parsing throughput on the fixtures and on a
// large feed of 500 items with full HTML articles, the size of a busy news
// site's full-text feed.
func BenchmarkParseFeed(b *testing.B) {
	inputs := map[string][]byte{}
	for _, name := range []string{"rss2.xml", "atom.xml", "jsonfeed.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		inputs[name] = data
	}
	var big strings.Builder
	big.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Big</title><link>https://big.example/</link>`)
	article := strings.Repeat("<p>Paragraph with <a href=\"/x\">a link</a>, <em>emphasis</em> &amp; entities &#8212; and more words to read.</p>\n", 40)
	for i := range 500 {
		fmt.Fprintf(&big, "<item><title>Story %d &amp; more</title><link>/story/%d</link><pubDate>Thu, 10 Jul 2025 14:05:00 +0000</pubDate><description>Teaser %d.</description><content:encoded><![CDATA[%s]]></content:encoded></item>\n", i, i, i, article)
	}
	big.WriteString("</channel></rss>")
	inputs["500-items"] = []byte(big.String())

	for _, name := range []string{"rss2.xml", "atom.xml", "jsonfeed.json", "500-items"} {
		data := inputs[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseFeed("https://big.example/feed", bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
