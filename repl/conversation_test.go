package repl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConversation(t *testing.T) {
	good := `{"version":1,"model":"m","template":"llama3","created":"ignored",
		"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi\n"},{"role":"assistant","content":"Hello ✓"}]}`
	conv, err := parseConversation([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Messages) != 3 || conv.Messages[0].Content != "Be brief." || conv.Messages[1].Content != "hi\n" || conv.Messages[2].Content != "Hello ✓" || conv.Template != "llama3" {
		t.Errorf("parsed %+v", conv)
	}
	bad := map[string]string{
		"not JSON":         `hello`,
		"truncated":        good[:40],
		"no messages":      `{"version":1}`,
		"wrong version":    `{"version":2,"messages":[]}`,
		"no version":       `{"messages":[]}`,
		"unknown role":     `{"version":1,"messages":[{"role":"tool","content":"x"}]}`,
		"late system":      `{"version":1,"messages":[{"role":"user","content":"x"},{"role":"system","content":"y"}]}`,
		"trailing data":    `{"version":1,"messages":[]} {}`,
		"messages wrong":   `{"version":1,"messages":{"role":"user"}}`,
		"content a number": `{"version":1,"messages":[{"role":"user","content":3}]}`,
	}
	for name, b := range bad {
		if _, err := parseConversation([]byte(b)); err == nil {
			t.Errorf("%s: accepted %s", name, b)
		}
	}
}

// TestReadConversationTooLarge checks that /load refuses a file larger than
// any conversation before reading it all.
func TestReadConversationTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxConversationBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := ReadConversation(path); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("ReadConversation of a %d-byte file: %v", maxConversationBytes+1, err)
	}
}

// FuzzParseConversation checks that no input makes the conversation parser
// panic, and that whatever it accepts holds only known roles.
func FuzzParseConversation(f *testing.F) {
	f.Add([]byte(`{"version":1,"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}]}`))
	f.Add([]byte(`{"version":1,"messages":[]}`))
	f.Add([]byte(`{"version":1,"messages":[{"role":"assistant","content":"\ud800"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		conv, err := parseConversation(b)
		if err != nil {
			return
		}
		for i, m := range conv.Messages {
			if m.Role != "user" && m.Role != "assistant" && (m.Role != "system" || i != 0) {
				t.Fatalf("accepted message %d with role %q", i, m.Role)
			}
		}
	})
}
