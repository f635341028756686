package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/model/hub"
	"github.com/bitnet-go/bitnet/models"
)

// TestTokenizeUsageErrors: a bad `bitnet tokenize` command line is one
// line on stderr, nothing on stdout, exit status 2.
func TestTokenizeUsageErrors(t *testing.T) {
	model := filepath.Join("models", models.DefaultFile)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"tokenize", "--frobnicate", "x"}, "flag provided but not defined: -frobnicate"},
		{[]string{"tokenize", "-m"}, "flag needs an argument: -m"},
		{[]string{"tokenize", "hello"}, "give exactly one of -m MODEL and --tokenizer FILE"},
		{[]string{"tokenize", "-m", model, "--tokenizer", model, "x"}, "give exactly one of -m MODEL and --tokenizer FILE"},
		{[]string{"tokenize", "--bos=maybe", "-m", model}, `invalid boolean value "maybe" for -bos: parse error`},
	} {
		code, stdout, stderr := runCLI(t, "", c.args...)
		want := "bitnet: " + c.msg + " (see 'bitnet tokenize --help')\n"
		if code != exitUsage || stdout != "" || stderr != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and only %q", c.args, code, stdout, stderr, exitUsage, want)
		}
	}
	if code, _, stderr := runCLI(t, "", "tokenize", "-h"); code != exitOK || !strings.Contains(stderr, "usage: bitnet tokenize") {
		t.Errorf("-h: exit %d, stderr %q", code, stderr)
	}
}

// TestTokenizeModelArgument: -m takes what bitnet -m takes: a GGUF file, a
// Hugging Face model directory (or its config.json), or the name of a
// downloaded model.
func TestTokenizeModelArgument(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	cache, err := hub.DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	model, err := os.ReadFile(filepath.Join("models", models.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	ggufPath := filepath.Join(home, "model.gguf")
	writeTokenizeFile(t, ggufPath, string(model))
	// bitnet-2b4t, as `bitnet pull bitnet-2b4t` leaves it.
	writeTokenizeFile(t, filepath.Join(cache, "microsoft", "bitnet-b1.58-2B-4T-gguf", "ggml-model-i2_s.gguf"), string(model))
	// A Hugging Face directory whose tokenizer.json knows "a", "b" and "ab".
	hfDir := filepath.Join(home, "hf")
	writeTokenizeFile(t, filepath.Join(hfDir, "config.json"), `{"architectures": ["BitNetForCausalLM"]}`)
	writeTokenizeFile(t, filepath.Join(hfDir, "tokenizer.json"), `{"pre_tokenizer": {"type": "ByteLevel"},
		"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}`)

	tokenize := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(t, "", append([]string{"tokenize", "--json"}, args...)...)
		if code != exitOK || stderr != "" {
			t.Fatalf("tokenize %q: exit %d, stderr %q", args, code, stderr)
		}
		return stdout
	}
	want := tokenize("--tokenizer", ggufPath, "Once upon a time")
	if !strings.HasPrefix(want, `{"ids":[`) || strings.HasPrefix(want, `{"ids":[]`) {
		t.Fatalf("--tokenizer: %q", want)
	}
	for _, arg := range []string{ggufPath, "bitnet-2b4t", "microsoft/bitnet-b1.58-2B-4T-gguf:ggml-model-i2_s.gguf"} {
		if got := tokenize("-m", arg, "Once upon a time"); got != want {
			t.Errorf("-m %s: %q, want %q", arg, got, want)
		}
	}
	for _, arg := range []string{hfDir, filepath.Join(hfDir, "config.json")} {
		if got, want := tokenize("-m", arg, "ab"), `{"ids":[2],"pieces":["ab"]}`+"\n"; got != want {
			t.Errorf("-m %s: %q, want %q", arg, got, want)
		}
	}
	code, stdout, stderr := runCLI(t, "", "tokenize", "-m", "bitnet-large", "x")
	if code != exitError || stdout != "" || !strings.Contains(stderr, "bitnet pull bitnet-large") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("a model not downloaded: exit %d, stdout %q, stderr %q; want exit 1 and one line saying how to pull it", code, stdout, stderr)
	}
}

// writeTokenizeFile creates path, and the directories above it, holding data.
func writeTokenizeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
