package shard

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// reconcile runs when the store opens, before anything is served: temp
// files (a write cut short) are removed, blob files without metadata (a
// crash between the blob's rename and the metadata commit: never
// acknowledged) are queued for collection, and metadata entries whose blob
// file is missing are dropped with their quota charges.
func (s *Store) reconcile() error {
	onDisk := make(map[ID]bool)
	root := filepath.Join(s.dir, blobsDir)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			os.Remove(path)
			return nil
		}
		id, perr := ParseID(name)
		if perr != nil || s.blobPath(id) != path {
			return nil // not ours: left alone
		}
		onDisk[id] = true
		return nil
	})
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		shards, gc := tx.Bucket(bucketShards), tx.Bucket(bucketGC)
		var drop []ID
		var junk [][]byte
		err := shards.ForEach(func(k, _ []byte) error {
			switch {
			case len(k) != len(ID{}):
				junk = append(junk, append([]byte(nil), k...))
			case !onDisk[ID(k)]:
				drop = append(drop, ID(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range junk {
			if err := shards.Delete(k); err != nil {
				return err
			}
		}
		for _, id := range drop {
			m, err := getMeta(tx, id)
			if err == nil && m != nil {
				for _, o := range m.Owners {
					if err := addUsage(tx, o, -m.Size); err != nil {
						return err
					}
				}
			}
			if err := shards.Delete(id[:]); err != nil {
				return err
			}
			s.droppedMeta++
		}
		for id := range onDisk {
			if shards.Get(id[:]) == nil && gc.Get(id[:]) == nil {
				if err := gc.Put(id[:], stamp()); err != nil {
					return err
				}
				s.orphans++
			}
		}
		return nil
	})
}
