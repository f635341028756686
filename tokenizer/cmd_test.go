package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/model/gguf"
)

// tinyModelFile writes the tiny byte-level tokenizer as a GGUF file.
func tinyModelFile(t *testing.T) string {
	t.Helper()
	w := gguf.NewWriter()
	tinyByteLevel(t).AddToGGUF(w)
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func runTokenize(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := RunTokenize(args, strings.NewReader(stdin), &out, &errOut, TokenizeOptions{})
	return out.String(), errOut.String(), err
}

func TestRunTokenizePlain(t *testing.T) {
	path := tinyModelFile(t)
	tok := tinyByteLevel(t)
	out, _, err := runTokenize(t, "", "-m", path, "the", "an")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, id := range tok.Encode("the an", EncodeOptions{}) {
		want.WriteString(strings.Join([]string{itoa(id), `"` + tok.Piece(id) + `"`}, "\t") + "\n")
	}
	if out != want.String() {
		t.Errorf("output\n%s\nwant\n%s", out, want.String())
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

type tokenizeJSON struct {
	IDs    []int    `json:"ids"`
	Pieces []string `json:"pieces"`
}

func TestRunTokenizeJSON(t *testing.T) {
	path := tinyModelFile(t)
	tok := tinyByteLevel(t)
	// Text from stdin, flags in any order, special tokens parsed.
	out, _, err := runTokenize(t, "<|bos|>the<tool>", "--json", "--model", path, "--bos")
	if err != nil {
		t.Fatal(err)
	}
	var got tokenizeJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	want := tok.Encode("<|bos|>the<tool>", EncodeOptions{AddBOS: true, ParseSpecial: true})
	if !slices.Equal(got.IDs, want) || got.IDs[0] != tok.BOS() || got.IDs[1] != tok.BOS() {
		t.Errorf("ids %v, want %v", got.IDs, want)
	}
	if len(got.Pieces) != len(got.IDs) || got.Pieces[0] != "<|bos|>" {
		t.Errorf("pieces %q", got.Pieces)
	}
	// Flags after the text, and "--" to pass flag-like text.
	out, _, err = runTokenize(t, "", "--tokenizer", path, "the", "--json", "--", "--bos")
	if err != nil {
		t.Fatal(err)
	}
	got = tokenizeJSON{}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if want := tok.Encode("the --bos", EncodeOptions{}); !slices.Equal(got.IDs, want) {
		t.Errorf("ids %v, want %v", got.IDs, want)
	}
}

func TestRunTokenizeUsage(t *testing.T) {
	path := tinyModelFile(t)
	for name, args := range map[string][]string{
		"no source":    {"hello"},
		"two sources":  {"-m", path, "--tokenizer", path, "hello"},
		"unknown flag": {"-m", path, "--frobnicate"},
		"missing arg":  {"-m"},
	} {
		_, stderr, err := runTokenize(t, "", args...)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%s: error %v, want ErrUsage", name, err)
			continue
		}
		// The caller prints the error: one line, nothing else.
		if stderr != "" || strings.Contains(err.Error(), "\n") || strings.HasPrefix(err.Error(), "usage") {
			t.Errorf("%s: error %q, stderr %q; want one line of its own and nothing printed", name, err, stderr)
		}
	}
	if _, stderr, err := runTokenize(t, "", "-h"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr, "usage: bitnet tokenize") {
		t.Errorf("-h: %v, stderr %q", err, stderr)
	}
	missing := filepath.Join(t.TempDir(), "none.gguf")
	if _, _, err := runTokenize(t, "", "-m", missing, "x"); err == nil || errors.Is(err, ErrUsage) {
		t.Errorf("missing file: %v", err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("\x01\x02\x03garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runTokenize(t, "", "--tokenizer", garbage, "x"); !errors.Is(err, ErrFormat) {
		t.Errorf("garbage file: %v", err)
	}
}

// Load tells the three file kinds apart.
func TestLoadKinds(t *testing.T) {
	for rel, kind := range map[string]Kind{
		"llama3/tokenizer.json":  KindByteBPE,
		"llama2/tokenizer.json":  KindFallbackBPE,
		"llama2/tokenizer.model": KindSentencePiece,
	} {
		tok, err := Load(tokenizerPath(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind() != kind {
			t.Errorf("%s: kind %v, want %v", rel, tok.Kind(), kind)
		}
	}
	out, _, err := runTokenize(t, "", "--tokenizer", tokenizerPath(t, "llama3/tokenizer.json"), "--json", "<|begin_of_text|>Hi<|eot_id|>")
	if err != nil {
		t.Fatal(err)
	}
	var got tokenizeJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if want := []int{128000, 13347, 128009}; !slices.Equal(got.IDs, want) {
		t.Errorf("ids %v, want %v", got.IDs, want)
	}
	if !strings.Contains(out, `"<|begin_of_text|>"`) {
		t.Errorf("special pieces are escaped: %s", out)
	}
}

// TestRunTokenizeInputLimit checks that standard input beyond
// MaxTokenizeInput is refused with a clear error rather than read whole.
func TestRunTokenizeInputLimit(t *testing.T) {
	path := tinyModelFile(t)
	var out, errOut bytes.Buffer
	big := io.MultiReader(strings.NewReader(strings.Repeat("the an ", MaxTokenizeInput/7)), strings.NewReader(strings.Repeat("x", 16)))
	err := RunTokenize([]string{"-m", path}, big, &out, &errOut, TokenizeOptions{})
	if err == nil || !strings.Contains(err.Error(), "longer than 64 MiB") {
		t.Fatalf("error %v; want one saying the input is longer than 64 MiB", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %d bytes of output for refused input", out.Len())
	}
}
