package tokenizer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hfDir makes a model directory holding the shared Llama 2 tokenizer.model
// and the given settings files.
func hfDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(tokenizerPath(t, "llama2/tokenizer.model"))
	if err != nil {
		t.Fatal(err)
	}
	files[HFTokenizerModel] = string(data)
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFromHFDirAppliesSettings(t *testing.T) {
	dir := hfDir(t, map[string]string{
		HFTokenizerConfig: `{"add_bos_token": false, "bos_token": {"content": "<s>", "lstrip": false},
			"eos_token": "</s>", "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "{{ messages }}"}]}`,
		HFGenerationConfig: `{"eos_token_id": [2, 13], "do_sample": true}`,
	})
	tok, err := FromHFDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AddBOSByDefault() {
		t.Error("add_bos_token false was not applied")
	}
	if tok.BOS() != 1 || tok.EOS() != 2 {
		t.Errorf("BOS %d EOS %d, want 1 and 2", tok.BOS(), tok.EOS())
	}
	if tok.ChatTemplate() != "{{ messages }}" {
		t.Errorf("chat template %q, want the default one", tok.ChatTemplate())
	}
	if stops := tok.StopTokens(); !slices.Contains(stops, 2) || !slices.Contains(stops, 13) {
		t.Errorf("stop tokens %v lack generation_config's 2 and 13", stops)
	}
	// Without settings files the tokenizer is the plain one.
	plain, err := FromHFDir(hfDir(t, map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if !plain.AddBOSByDefault() || plain.ChatTemplate() != "" || slices.Contains(plain.StopTokens(), 13) {
		t.Errorf("plain directory: add BOS %v, template %q, stops %v", plain.AddBOSByDefault(), plain.ChatTemplate(), plain.StopTokens())
	}
}

func TestFromHFDirBadSettings(t *testing.T) {
	for name, content := range map[string]string{
		HFTokenizerConfig:  `{"chat_template": 5}`,
		HFGenerationConfig: `{"eos_token_id": "x"}`,
	} {
		_, err := FromHFDir(hfDir(t, map[string]string{name: content}))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s %s: error %v, want ErrFormat naming the file", name, content, err)
		}
	}
	// Unknown names and ids are warnings, not errors.
	tok, err := FromHFDir(hfDir(t, map[string]string{
		HFTokenizerConfig:  `{"eos_token": "<|no such token|>"}`,
		HFGenerationConfig: `{"eos_token_id": 99999999}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(tok.Warnings(), "\n"); !strings.Contains(w, "no such token") || !strings.Contains(w, "99999999") {
		t.Errorf("warnings %q", w)
	}
	if _, err := FromHFDir(t.TempDir()); !errors.Is(err, ErrNoTokenizer) {
		t.Errorf("empty directory: %v", err)
	}
}
