package failover

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// file is the saved form of the lists of every cell type.
type file struct {
	Version int                   `json:"version"`
	Cells   map[string][]Endpoint `json:"cells"`
}

const fileVersion = 1

// maxFile bounds a saved list file.
const maxFile = 1 << 20

// Save writes the endpoints of each list (by cell name) to path atomically
// (temp file, fsync, rename), so a pulled stick leaves the old or the new
// file, never half of one.
func Save(path string, lists map[string]*List) error {
	f := file{Version: fileVersion, Cells: map[string][]Endpoint{}}
	for cell, l := range lists {
		f.Cells[cell] = l.Endpoints()
	}
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".endpoints-*")
	if err != nil {
		return fmt.Errorf("failover: saving endpoints: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("failover: saving endpoints: %w", err)
	}
	return nil
}

// Load reads the endpoints saved by Save. A missing file is an empty map;
// a damaged one is an error (the caller starts from the network's lists).
func Load(path string) (map[string][]Endpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string][]Endpoint{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failover: loading endpoints: %w", err)
	}
	return decodeFile(b)
}

func decodeFile(b []byte) (map[string][]Endpoint, error) {
	if len(b) > maxFile {
		return nil, errors.New("failover: the endpoint file is too large")
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || dec.More() {
		return nil, errors.New("failover: the endpoint file is damaged")
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("failover: endpoint file version %d is not supported", f.Version)
	}
	for cell, eps := range f.Cells {
		if len(eps) > MaxEndpoints {
			return nil, fmt.Errorf("failover: %d endpoints for %s, at most %d", len(eps), cell, MaxEndpoints)
		}
		for _, e := range eps {
			if e.Addr == "" || len(e.Addr) > 256 || len(e.ID) > 130 {
				return nil, errors.New("failover: the endpoint file holds a malformed endpoint")
			}
		}
	}
	return f.Cells, nil
}
