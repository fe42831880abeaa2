// Package jcs writes the strings of the cells' canonical encodings as RFC
// 8785 (JSON Canonicalization Scheme) requires, so signed bytes are the
// same whoever builds them.
package jcs

// AppendString appends s as an RFC 8785 JSON string: '"' and '\' escaped
// with a backslash, the control characters U+0000..U+001F as \b \t \n \f
// \r or \u00xx (lowercase hex), everything else as its UTF-8 bytes. s must
// be valid UTF-8 (the callers' checks ensure it).
func AppendString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
