package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// eachJSONLine calls each with every non-blank line of in and its number,
// for the -jsonl commands, and returns their exit status. A line over
// maxArticleBytes is reported on stderr, prefixed with cmd, and counted as
// bad, as is every line each reports bad: the status is then 1, the other
// lines done. An error from each, or from reading, stops at once: 1.
func eachJSONLine(in io.Reader, stderr io.Writer, cmd string, each func(n int, line []byte) (badLine bool, err error)) int {
	bad, err := jsonLines(in, stderr, cmd, each)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "%s: %d bad line(s) skipped\n", cmd, bad)
		return 1
	}
	return 0
}

func jsonLines(in io.Reader, stderr io.Writer, cmd string, each func(n int, line []byte) (badLine bool, err error)) (bad int, err error) {
	r := bufio.NewReaderSize(in, 1<<16)
	for n := 1; ; n++ {
		line, err := readLine(r, maxArticleBytes)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return bad, nil
		}
		if errors.Is(err, errLineTooLong) {
			fmt.Fprintf(stderr, "%s: line %d: longer than %d MB: skipped\n", cmd, n, maxArticleBytes>>20)
			bad++
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return bad, fmt.Errorf("read line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		badLine, err := each(n, line)
		if badLine {
			bad++
		}
		if err != nil {
			return bad, err
		}
	}
}
