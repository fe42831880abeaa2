package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
)

// Form limits. A page's fields are small; a legacy wallet file is a few KiB.
const (
	maxFormBytes = 64 << 10
	maxFileBytes = 256 << 10
)

var errTooLarge = errors.New("web: request too large")

// secretForm is a parsed form whose values are byte slices in one buffer
// that wipe() clears. Handlers read words and passphrases from it and never
// turn them into strings.
type secretForm struct {
	bufs   [][]byte
	values map[string][][]byte
}

func (f *secretForm) wipe() {
	for _, b := range f.bufs {
		clear(b)
	}
	f.values = nil
}

// get returns the first value of key (nil when absent).
func (f *secretForm) get(key string) []byte {
	if v := f.values[key]; len(v) > 0 {
		return v[0]
	}
	return nil
}

// all returns every value of key.
func (f *secretForm) all(key string) [][]byte { return f.values[key] }

// has reports whether key has a non-empty value.
func (f *secretForm) has(key string) bool { return len(f.get(key)) > 0 }

// readForm parses an application/x-www-form-urlencoded or multipart body.
// The caller must defer wipe().
func readForm(w http.ResponseWriter, r *http.Request) (*secretForm, error) {
	f := &secretForm{values: make(map[string][][]byte)}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		body, err := readAll(http.MaxBytesReader(w, r.Body, maxFormBytes), maxFormBytes)
		if err != nil {
			return f, err
		}
		f.bufs = append(f.bufs, body)
		return f, parseURLEncoded(body, f.values)
	case "multipart/form-data":
		mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, maxFileBytes+maxFormBytes), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return f, nil
			}
			if err != nil {
				return f, fmt.Errorf("web: reading form: %w", err)
			}
			limit := maxFormBytes
			if part.FileName() != "" {
				limit = maxFileBytes
			}
			data, err := readAll(part, limit)
			f.bufs = append(f.bufs, data)
			if err != nil {
				return f, err
			}
			f.values[part.FormName()] = append(f.values[part.FormName()], data)
		}
	}
	return f, fmt.Errorf("web: unsupported form type %q", mt)
}

// readAll reads at most limit bytes into one buffer it grows by copying and
// wiping, so no stale copy of a secret is left behind.
func readAll(r io.Reader, limit int) ([]byte, error) {
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= limit {
				clear(buf)
				return buf[:0], errTooLarge
			}
			bigger := make([]byte, len(buf), min(2*cap(buf), limit))
			copy(bigger, buf)
			clear(buf)
			buf = bigger
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return buf, errTooLarge
			}
			return buf, fmt.Errorf("web: reading form: %w", err)
		}
	}
}

// parseURLEncoded decodes body in place: values are sub-slices of body.
func parseURLEncoded(body []byte, into map[string][][]byte) error {
	for len(body) > 0 {
		var pair []byte
		pair, body, _ = bytes.Cut(body, []byte("&"))
		if len(pair) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(pair, []byte("="))
		key, err := unescape(k)
		if err != nil {
			return err
		}
		val, err := unescape(v)
		if err != nil {
			return err
		}
		into[string(key)] = append(into[string(key)], val)
	}
	return nil
}

// unescape decodes %XX and '+' in place and returns the shortened slice.
func unescape(s []byte) ([]byte, error) {
	j := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			s[j] = ' '
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return nil, errors.New("web: malformed form encoding")
			}
			s[j] = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		default:
			s[j] = c
		}
		j++
	}
	clear(s[j:])
	return s[:j], nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// joinWords joins word fields with single spaces into a new buffer the
// caller wipes.
func joinWords(parts [][]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		if len(bytes.TrimSpace(p)) == 0 {
			continue
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		out = append(out, p...)
	}
	return out
}
