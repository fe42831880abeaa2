package strictjson

import (
	"strings"
	"testing"
)

type target struct {
	ID   string `json:"id"`
	Size int    `json:"size"`
	Sub  *struct {
		A []int `json:"a"`
	} `json:"sub"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"good", `{"id":"x","size":3}`, true},
		{"nested", `{"id":"x","sub":{"a":[1,2]}}`, true},
		{"empty object", `{}`, true},
		{"unknown member", `{"id":"x","other":1}`, false},
		{"case alias", `{"ID":"x"}`, false},
		{"repeated", `{"id":"x","id":"y"}`, false},
		{"repeated nested", `{"sub":{"a":[1],"a":[2]}}`, false},
		{"trailing object", `{"id":"x"}{}`, false},
		{"trailing garbage", `{"id":"x"} x`, false},
		{"trailing after empty", `{} {}`, false},
		{"array", `[1]`, false},
		{"string", `"x"`, false},
		{"truncated", `{"id":"x"`, false},
		{"digit in name", `{"id2":"x"}`, false},
		{"too deep", `{"sub":{"a":[[[[[[[[1]]]]]]]]}}`, false},
		{"too large", `{"id":"` + strings.Repeat("x", 100) + `"}`, false},
		{"empty", ``, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v target
			if err := Decode([]byte(tc.in), 64, &v); (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok = %v", err, tc.ok)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"x","size":3,"sub":{"a":[1]}}`))
	f.Add([]byte(`{"id":"x","id":"y"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v target
		if Decode(b, 1<<16, &v) == nil && CheckKeys(b) != nil {
			t.Fatal("decoded what the key check refuses")
		}
	})
}
