package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// The files of a Hugging Face model directory that concern tokenisation.
const (
	HFTokenizerJSON        = "tokenizer.json"
	HFTokenizerModel       = "tokenizer.model"
	HFTokenizerConfig      = "tokenizer_config.json"
	HFGenerationConfig     = "generation_config.json"
	maxHFSettingsFileBytes = 16 << 20
)

// ErrNoTokenizer means a model directory holds neither tokenizer.json nor
// tokenizer.model.
var ErrNoTokenizer = errors.New("no tokenizer.json or tokenizer.model")

// FromHFDir loads the tokenizer of a Hugging Face model directory:
// tokenizer.json, or else tokenizer.model, together with the settings kept
// beside it — tokenizer_config.json's chat_template, add_bos_token,
// bos_token and eos_token, and generation_config.json's eos_token_id, whose
// ids become stop tokens.
func FromHFDir(dir string) (*Tokenizer, error) {
	var t *Tokenizer
	var err error
	switch {
	case isFile(filepath.Join(dir, HFTokenizerJSON)):
		t, err = FromJSON(filepath.Join(dir, HFTokenizerJSON))
	case isFile(filepath.Join(dir, HFTokenizerModel)):
		t, err = FromSentencePiece(filepath.Join(dir, HFTokenizerModel))
	default:
		return nil, fmt.Errorf("%w in %s", ErrNoTokenizer, dir)
	}
	if err != nil {
		return nil, err
	}
	var tc hfTokenizerConfig
	if err := readSettings(filepath.Join(dir, HFTokenizerConfig), &tc); err != nil {
		return nil, err
	}
	var gc hfGenerationConfig
	if err := readSettings(filepath.Join(dir, HFGenerationConfig), &gc); err != nil {
		return nil, err
	}
	t.applyDirSettings(&tc, &gc)
	return t, nil
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// readSettings decodes an optional JSON settings file into v; a missing
// file leaves v unchanged.
func readSettings(path string, v any) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Size() > maxHFSettingsFileBytes {
		return fmt.Errorf("%w: %s is %d bytes, more than a settings file can be", ErrFormat, path, st.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrFormat, path, err)
	}
	return nil
}

// hfTokenizerConfig is the part of tokenizer_config.json bitnet uses.
type hfTokenizerConfig struct {
	AddBOSToken  *bool          `json:"add_bos_token"`
	BOSToken     hfTokenName    `json:"bos_token"`
	EOSToken     hfTokenName    `json:"eos_token"`
	ChatTemplate hfChatTemplate `json:"chat_template"`
}

// hfTokenName is a special token given as a string or as an AddedToken
// object {"content": ...}.
type hfTokenName string

func (n *hfTokenName) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*n = hfTokenName(s)
		return nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("special token is neither a string nor an object with content")
	}
	*n = hfTokenName(obj.Content)
	return nil
}

// hfChatTemplate is the chat template: one string, or a list of named
// templates of which "default" is the one to use.
type hfChatTemplate string

func (c *hfChatTemplate) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*c = hfChatTemplate(s)
		return nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(b, &named); err != nil {
		return fmt.Errorf("chat_template is neither a string nor a list of named templates")
	}
	for i, t := range named {
		if t.Name == "default" || i == 0 {
			*c = hfChatTemplate(t.Template)
		}
	}
	return nil
}

// hfGenerationConfig is the part of generation_config.json bitnet uses.
type hfGenerationConfig struct {
	EOSTokenID hfIDs `json:"eos_token_id"`
}

// hfIDs is a token id given as one number or a list.
type hfIDs []int

func (ids *hfIDs) UnmarshalJSON(b []byte) error {
	var one int
	if json.Unmarshal(b, &one) == nil {
		*ids = hfIDs{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("eos_token_id is neither a number nor a list of numbers")
	}
	*ids = many
	return nil
}

// applyDirSettings adjusts a freshly loaded tokenizer, before anyone else
// holds it, with the settings of its model directory. Names and ids outside
// the vocabulary are reported as warnings and ignored.
func (t *Tokenizer) applyDirSettings(tc *hfTokenizerConfig, gc *hfGenerationConfig) {
	if tc.ChatTemplate != "" {
		t.chatTemplate = string(tc.ChatTemplate)
	}
	byName := func(what string, name hfTokenName) int {
		if name == "" {
			return -1
		}
		id, ok := t.vocab[string(name)]
		if !ok {
			t.warnings = append(t.warnings, fmt.Sprintf("%s %s %q is not in the vocabulary: ignored", HFTokenizerConfig, what, name))
			return -1
		}
		return int(id)
	}
	if id := byName("bos_token", tc.BOSToken); id >= 0 {
		t.bos = id
	}
	if id := byName("eos_token", tc.EOSToken); id >= 0 {
		t.eos = id
	}
	if tc.AddBOSToken != nil {
		t.addBOS = *tc.AddBOSToken
	}
	t.stops = t.stops[:0]
	t.buildStops()
	for _, id := range gc.EOSTokenID {
		if id < 0 || id >= len(t.pieces) {
			t.warnings = append(t.warnings, fmt.Sprintf("%s eos_token_id %d is outside the vocabulary: ignored", HFGenerationConfig, id))
			continue
		}
		if !slices.Contains(t.stops, id) {
			t.stops = append(t.stops, id)
		}
	}
}
