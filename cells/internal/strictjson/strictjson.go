// Package strictjson is the one JSON decoder of the cells' wire formats:
// it accepts exactly one JSON object whose member names are lowercase
// ASCII letters (at most 32), none repeated in one object (so
// encoding/json's case-insensitive matching cannot alias a field), with no
// member the target does not know, nested at most MaxDepth, and nothing
// after it. Errors say what was wrong; callers wrap them in their own
// "malformed" sentinel.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxDepth bounds the nesting of objects and arrays.
const MaxDepth = 8

// Decode parses b (at most max bytes) into v.
func Decode(b []byte, max int, v any) error {
	if len(b) > max {
		return fmt.Errorf("body of %d bytes, limit %d", len(b), max)
	}
	if err := CheckKeys(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}

// CheckKeys walks the JSON tokens of b: the top level must be an object,
// nesting at most MaxDepth, member names lowercase letters, none twice in
// one object, nothing after the object.
func CheckKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj  bool
		key  bool // the next token of an object is a member name
		seen map[string]bool
	}
	var stack []*frame
	first := true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) != 0 || first {
				return errors.New("truncated JSON")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if first {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return errors.New("body is not a JSON object")
			}
		}
		first = false
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].key = true
				}
				if len(stack) == 0 {
					return trailing(dec)
				}
				continue
			}
			k, _ := tok.(string)
			if !LowerKey(k) || top.seen[k] {
				return fmt.Errorf("bad or repeated member name %q", k)
			}
			top.seen[k] = true
			top.key = false
			continue
		}
		switch d, _ := tok.(json.Delim); d {
		case '{', '[':
			if len(stack) >= MaxDepth {
				return errors.New("nested too deeply")
			}
			stack = append(stack, &frame{obj: d == '{', key: d == '{', seen: map[string]bool{}})
			continue
		case '}', ']':
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
		if len(stack) == 0 {
			return trailing(dec)
		}
	}
}

func trailing(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}

// LowerKey reports whether k is 1 to 32 lowercase ASCII letters.
func LowerKey(k string) bool {
	if k == "" || len(k) > 32 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 'a' || k[i] > 'z' {
			return false
		}
	}
	return true
}
