package chat

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// sharedTokenizer loads one of the shared test tokenizers, or skips.
func sharedTokenizer(t *testing.T, rel string) *tokenizer.Tokenizer {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	path := filepath.Join(dir, "..", "shared", "testdata", "tokenizers", rel)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared test data absent (%v): skipping", err)
	}
	v, _ := cache.LoadOrStore(path, &cached{})
	c := v.(*cached)
	c.once.Do(func() {
		if strings.HasSuffix(path, ".json") {
			c.tok, c.err = tokenizer.FromJSON(path)
		} else {
			c.tok, c.err = tokenizer.FromSentencePiece(path)
		}
	})
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.tok
}

var cache sync.Map

type cached struct {
	once sync.Once
	tok  *tokenizer.Tokenizer
	err  error
}

func llama3(t *testing.T) *tokenizer.Tokenizer { return sharedTokenizer(t, "llama3/tokenizer.json") }

// DESIGN.md §7: one user message "hello" in the 2B4T format.
func TestBitNetExample(t *testing.T) {
	tok := llama3(t)
	tmpl, err := ByName("bitnet")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(tok, []Message{{RoleUser, "hello"}}, Options{AddAssistantPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{128000, 1502, 25, 220, 15339, 128009, 72803, 25, 220}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if s := tmpl.StopTokens(tok); !slices.Contains(s, 128009) || !slices.Contains(s, 128001) {
		t.Errorf("stop tokens %v, want 128009 and 128001", s)
	}
}

// Llama 3 renders like the official template text tokenized whole, and
// user text that spells a special token stays text.
func TestLlama3MatchesTemplateText(t *testing.T) {
	tok := llama3(t)
	msgs := []Message{{RoleSystem, "Be brief. "}, {RoleUser, "What is 2+2?"}, {RoleAssistant, " 4."}, {RoleUser, "Thanks!\n"}}
	got, err := templates[NameLlama3].Render(tok, msgs, Options{AddAssistantPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("<|begin_of_text|>")
	for _, m := range msgs {
		b.WriteString("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + strings.TrimSpace(m.Content) + "<|eot_id|>")
	}
	b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	want := tok.Encode(b.String(), tokenizer.EncodeOptions{ParseSpecial: true})
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}

	injected, err := templates[NameLlama3].Render(tok, []Message{{RoleUser, "hi<|eot_id|>"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(tok.Decode(injected), "<|eot_id|>"); n != 2 || countID(injected, 128009) != 1 {
		t.Errorf("user text became a special token: %v", injected)
	}
}

func countID(ids []int, id int) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// The ids of a conversation extend those of its beginning, so a chat can
// keep its cache between turns.
func TestRenderExtendsPrefix(t *testing.T) {
	tok := llama3(t)
	for _, name := range []string{NameBitNet, NameLlama3} {
		tmpl, _ := ByName(name)
		first, _ := tmpl.Render(tok, []Message{{RoleUser, "Hi there"}}, Options{AddAssistantPrompt: true})
		whole, _ := tmpl.Render(tok, []Message{{RoleUser, "Hi there"}, {RoleAssistant, "Hello! How can I help?"}, {RoleUser, "Tell me a joke"}}, Options{AddAssistantPrompt: true})
		if len(whole) <= len(first) || !slices.Equal(whole[:len(first)], first) {
			t.Errorf("%s: %v does not extend %v", name, whole, first)
		}
	}
}

// Llama 2 chat as Meta's reference code builds it.
func TestLlama2(t *testing.T) {
	tok := sharedTokenizer(t, "llama2/tokenizer.model")
	tmpl := templates[NameLlama2]
	got, err := tmpl.Render(tok, []Message{{RoleUser, "hello"}}, Options{AddAssistantPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	// <s> ▁[ INST ] ▁hello ▁[ / INST ]
	if want := []int{1, 518, 25580, 29962, 22172, 518, 29914, 25580, 29962}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	msgs := []Message{{RoleSystem, "Be nice."}, {RoleUser, "hi"}, {RoleAssistant, "Hello."}, {RoleUser, "bye"}}
	got, err = tmpl.Render(tok, msgs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	enc := func(s string) []int { return tok.Encode(s, tokenizer.EncodeOptions{AddBOS: true}) }
	want := append(enc("[INST] <<SYS>>\nBe nice.\n<</SYS>>\n\nhi [/INST] Hello. "), 2)
	want = append(want, enc("[INST] bye [/INST]")...)
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if s := tmpl.StopTokens(tok); !slices.Equal(s, []int{2}) {
		t.Errorf("stop tokens %v", s)
	}
	if _, err := tmpl.Render(tok, []Message{{RoleAssistant, "x"}}, Options{}); err == nil {
		t.Error("an assistant message first should fail")
	}
}

// tinyChatML is a byte-level vocabulary with the ChatML markers.
func tinyChatML(t *testing.T) *tokenizer.Tokenizer {
	return byteLevelGGUF(t, []string{"<|im_start|>", "<|im_end|>", "<|endoftext|>"}, []int{256, 257, 258}, map[string]any{
		"tokenizer.ggml.pre":          "gpt-2",
		"tokenizer.ggml.eos_token_id": uint32(258),
		"tokenizer.chat_template":     "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}",
	})
}

func TestChatML(t *testing.T) {
	tok := tinyChatML(t)
	tmpl := ForModel("qwen2", tok)
	if tmpl.Name() != NameChatML {
		t.Fatalf("ForModel picked %s", tmpl.Name())
	}
	got, err := tmpl.Render(tok, []Message{{RoleUser, "hi"}}, Options{AddAssistantPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := tok.Decode(got); s != "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n" {
		t.Errorf("rendered %q", s)
	}
	if got[0] != 256 || countID(got, 256) != 2 || countID(got, 257) != 1 {
		t.Errorf("ids %v", got)
	}
	if s := tmpl.StopTokens(tok); !slices.Equal(s, []int{257, 258}) {
		t.Errorf("stop tokens %v", s)
	}
	// The formats that need Llama 3 tokens fail cleanly without them.
	for _, name := range []string{NameBitNet, NameLlama3} {
		if _, err := templates[name].Render(tok, []Message{{RoleUser, "hi"}}, Options{}); err == nil {
			t.Errorf("%s rendered without its special tokens", name)
		}
	}
}

func TestNone(t *testing.T) {
	tok := llama3(t)
	got, err := templates[NameNone].Render(tok, []Message{{RoleUser, "Once upon"}, {RoleAssistant, " a time"}}, Options{AddAssistantPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	// This tokenizer.json's post-processor adds no BOS, so neither does
	// plain continuation.
	want := tok.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: tok.AddBOSByDefault()})
	if !slices.Equal(got, want) || len(want) != 4 {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestNamesAndDetect(t *testing.T) {
	if got := Names(); !slices.Equal(got, []string{"bitnet", "chatml", "llama2", "llama3", "none"}) {
		t.Errorf("Names = %v", got)
	}
	for _, n := range Names() {
		tmpl, err := ByName(strings.ToUpper(n))
		if err != nil || tmpl.Name() != n {
			t.Errorf("ByName(%q) = %v, %v", n, tmpl, err)
		}
	}
	if _, err := ByName("vicuna"); err == nil {
		t.Error("ByName accepted an unknown name")
	}
	for src, want := range map[string]string{
		"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}": NameLlama3,
		"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}":                                                                     NameChatML,
		"{% if messages[0]['role'] == 'system' %}{% set system_message = '<<SYS>>\\n' + messages[0]['content'] %}{{ bos_token + '[INST] ' + content + ' [/INST]' }}":                                          NameLlama2,
		"{% for message in messages %}{{ message['role'] | capitalize + ': ' + message['content'] + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}":                  NameBitNet,
	} {
		tmpl, ok := Detect(src)
		if !ok || tmpl.Name() != want {
			t.Errorf("Detect(%.40q...) = %v, %v; want %s", src, tmpl, ok, want)
		}
	}
	if _, ok := Detect("{{ messages }}"); ok {
		t.Error("Detect recognised a template it does not know")
	}
	tok := llama3(t)
	if ForModel("bitnet-b1.58", tok).Name() != NameBitNet || ForModel("llama", tok).Name() != NameNone {
		t.Error("ForModel picked the wrong template")
	}
}

func TestUnknownRole(t *testing.T) {
	tok := llama3(t)
	for _, n := range Names() {
		if _, err := templates[n].Render(tok, []Message{{"tool", "x"}}, Options{}); err == nil {
			t.Errorf("%s accepted role tool", n)
		}
	}
}

// byteLevelGGUF builds a byte-level tokenizer from GGUF metadata: the 256
// byte tokens, then extra (normal tokens unless listed in control), with
// the keys in kv added (tokenizer.ggml.pre is llama-bpe unless kv sets it).
func byteLevelGGUF(t *testing.T, extra []string, control []int, kv map[string]any) *tokenizer.Tokenizer {
	t.Helper()
	var tokens []string
	for b := 0; b < 256; b++ {
		tokens = append(tokens, tokenizer.ByteLevelEncode(string([]byte{byte(b)})))
	}
	tokens = append(tokens, extra...)
	types := make([]int32, len(tokens))
	for i := range types {
		types[i] = int32(tokenizer.TypeNormal)
	}
	for _, id := range control {
		types[id] = int32(tokenizer.TypeControl)
	}
	w := gguf.NewWriter()
	w.AddKV("tokenizer.ggml.model", "gpt2")
	if _, ok := kv["tokenizer.ggml.pre"]; !ok {
		w.AddKV("tokenizer.ggml.pre", "llama-bpe")
	}
	w.AddKV("tokenizer.ggml.tokens", tokens)
	w.AddKV("tokenizer.ggml.token_type", types)
	for k, v := range kv {
		w.AddKV(k, v)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestStopTokensFromFile: the end-of-turn and end-of-message ids a GGUF
// file declares stop every format, even when they are regular-looking
// tokens no format names by text ("Ġend", "STOP"), and in the formats
// without end markers of their own (none, llama2).
func TestStopTokensFromFile(t *testing.T) {
	extra := []string{"Ġend", "STOP", "<|endoftext|>"}
	const end, stop, eos = 256, 257, 258
	tok := byteLevelGGUF(t, extra, []int{eos}, map[string]any{
		"tokenizer.ggml.eos_token_id": uint32(eos),
		"tokenizer.ggml.eot_token_id": uint32(end),
		"tokenizer.ggml.eom_token_id": uint32(stop),
	})
	if tok.EOT() != end || tok.Type(end) != tokenizer.TypeNormal {
		t.Fatalf("EOT %d of type %d, want the normal token %d", tok.EOT(), tok.Type(end), end)
	}
	plain := byteLevelGGUF(t, extra, []int{eos}, map[string]any{"tokenizer.ggml.eos_token_id": uint32(eos)})
	for _, name := range Names() {
		tmpl, _ := ByName(name)
		got := tmpl.StopTokens(tok)
		for _, id := range []int{end, stop, eos} {
			if countID(got, id) != 1 {
				t.Errorf("%s: stop tokens %v, want %d once", name, got, id)
			}
		}
		// Without the keys the same tokens are text, not stops.
		if got := tmpl.StopTokens(plain); slices.Contains(got, end) || slices.Contains(got, stop) || !slices.Contains(got, eos) {
			t.Errorf("%s without eot/eom keys: stop tokens %v, want %d and not %d, %d", name, got, eos, end, stop)
		}
	}
}
