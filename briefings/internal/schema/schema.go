// Package schema reads a store's schema steps from embedded
// NNNN_name.sql files. Each store driver applies them its own way (in a
// transaction each; PostgreSQL under an advisory lock); the rules for what a
// valid set of steps is live here, once.
package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
)

// Step is one schema step, from NNNN_name.sql.
type Step struct {
	Version int
	Name    string // the file name
	SQL     string
}

var fileName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// Load reads the steps in version order. Versions must run 1, 2, 3, …
// without a gap, so a file lost in a merge is an error here rather than a
// schema that silently lacks a table.
func Load(fsys fs.FS) ([]Step, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var steps []Step
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: want a name like 0001_init.sql", e.Name())
		}
		version, _ := strconv.Atoi(m[1])
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		steps = append(steps, Step{Version: version, Name: e.Name(), SQL: string(body)})
	}
	slices.SortFunc(steps, func(a, b Step) int { return a.Version - b.Version })
	for i, s := range steps {
		if s.Version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (versions run from 1 without gaps)", s.Name, s.Version, i+1)
		}
	}
	if len(steps) == 0 {
		return nil, errors.New("no migrations")
	}
	return steps, nil
}
