package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// sharedTestdata returns ../shared/testdata relative to the repository
// root.
func sharedTestdata() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repository root (go.mod) not found")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		return "", fmt.Errorf("shared test data not found at %s", td)
	}
	return td, nil
}

// sharedDir returns the shared test data folder, or skips the test when it
// is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	td, err := sharedTestdata()
	if err != nil {
		t.Skipf("%v: skipping", err)
	}
	return td
}

func tokenizerPath(t testing.TB, rel string) string {
	return filepath.Join(sharedDir(t), "tokenizers", rel)
}

// loaded caches the big tokenizers so each is parsed once per test binary.
var loaded sync.Map // path -> *loadResult

type loadResult struct {
	once sync.Once
	tok  *Tokenizer
	err  error
}

func load(t testing.TB, rel string, loader func(string) (*Tokenizer, error)) *Tokenizer {
	t.Helper()
	path := tokenizerPath(t, rel)
	v, _ := loaded.LoadOrStore(path, &loadResult{})
	r := v.(*loadResult)
	r.once.Do(func() { r.tok, r.err = loader(path) })
	if r.err != nil {
		t.Fatalf("load %s: %v", rel, r.err)
	}
	return r.tok
}

func llama3JSON(t testing.TB) *Tokenizer { return load(t, "llama3/tokenizer.json", FromJSON) }
func llama2JSON(t testing.TB) *Tokenizer { return load(t, "llama2/tokenizer.json", FromJSON) }

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// goldenCase is one entry of tokenizers/cases.json.
type goldenCase struct {
	Text                       string `json:"text"`
	Llama3                     []int  `json:"llama3"`
	Llama2                     []int  `json:"llama2"`
	Llama2SentencePiece        []int  `json:"llama2_sentencepiece"`
	Llama2SentencePieceSpecial []int  `json:"llama2_sentencepiece_parse_special"`
	Llama3HasSpecialTokens     bool   `json:"llama3_has_special_tokens"`
	Llama2Reliable             bool   `json:"llama2_reliable"`
	Note                       string `json:"note"`
}

func goldenCases(t testing.TB) []goldenCase {
	var f struct {
		Cases []goldenCase `json:"cases"`
	}
	readJSON(t, tokenizerPath(t, "cases.json"), &f)
	if len(f.Cases) == 0 {
		t.Fatal("cases.json has no cases")
	}
	return f.Cases
}

type vectorCase struct {
	Text string `json:"text"`
	IDs  []int  `json:"ids"`
}

func vectorCases(t testing.TB, name string) []vectorCase {
	var f struct {
		Cases []vectorCase `json:"cases"`
	}
	readJSON(t, tokenizerPath(t, name), &f)
	if len(f.Cases) == 0 {
		t.Fatalf("%s has no cases", name)
	}
	return f.Cases
}
