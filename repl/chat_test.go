package repl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/tokenizer"
	"github.com/bitnet-go/bitnet/tokenizer/chat"
)

// loadModel loads a GGUF model for in-process tests.
func loadModel(t *testing.T, path string, opts model.Options) Model {
	t.Helper()
	m, err := model.Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	tok, err := tokenizer.FromGGUF(m.File)
	if err != nil {
		t.Fatal(err)
	}
	return Model{Model: m, Tokenizer: tok, Name: filepath.Base(path), Path: path}
}

// greedyText continues prompt greedily for n tokens with the engine and the
// tokenizer's streaming decoder directly, as plain text without a chat
// template; control tokens are not text and are left out.
func greedyText(t *testing.T, path, prompt string, n int) string {
	t.Helper()
	m, err := model.Load(path, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, err := tokenizer.FromGGUF(m.File)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	dec := tok.NewStreamDecoder()
	_, err = m.NewSession().Generate(context.Background(), tok.Encode(prompt, tokenizer.EncodeOptions{AddBOS: tok.AddBOSByDefault()}),
		model.GenerateOptions{MaxTokens: n, StopTokens: tok.StopTokens()},
		func(id int) error {
			if !tok.IsControl(id) {
				text.WriteString(dec.Add(id))
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return text.String() + dec.Flush()
}

// newTestChat starts a greedy chat with template name on the base model.
func newTestChat(t *testing.T, template string, maxTokens int) *Chat {
	t.Helper()
	m := loadModel(t, baseModel, model.Options{Threads: 1})
	tmpl, err := chat.ByName(template)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings()
	s.Sampler.Temperature, s.MaxTokens = 0, maxTokens
	c, err := NewChat(m, tmpl, s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// discard is a Stream that keeps nothing.
var discard = Stream{Text: func(string) error { return nil }}

func TestTemplateFor(t *testing.T) {
	cases := []struct{ path, want string }{
		// bitnet-b1.58 implies the BitNet format, but the vocabulary has
		// no <|eot_id|>, and no chat template: a base model.
		{baseModel, chat.NameNone},
		{chatModel, chat.NameLlama2}, // the template source names Llama 2
	}
	for _, c := range cases {
		m := loadModel(t, c.path, model.Options{Threads: 1})
		if got := TemplateFor(m.Model, m.Tokenizer).Name(); got != c.want {
			t.Errorf("%s: template %s, want %s", c.path, got, c.want)
		}
	}
}

// TestChatDropsOldestTurns holds a conversation far longer than the
// 256-token window: every answer must come, the system prompt and the
// newest message must stay, and old turns go in whole exchanges.
func TestChatDropsOldestTurns(t *testing.T) {
	c := newTestChat(t, chat.NameLlama2, 20)
	c.System = "You are a test."
	drops := 0
	for i := range 12 {
		msg := "what about the weather " + string(rune('a'+i)) // about 50 tokens an exchange
		before := len(c.Messages())
		r, err := c.Reply(context.Background(), msg, Stream{
			Dropped: func(n int) { drops++ },
			Text:    func(string) error { return nil },
		})
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		msgs := c.Messages()
		if r.Dropped%2 != 0 || len(msgs) != before+2-r.Dropped {
			t.Fatalf("message %d: dropped %d; %d messages before, %d after", i, r.Dropped, before, len(msgs))
		}
		if msgs[0].Role != chat.RoleSystem || msgs[0].Content != c.System || msgs[1].Role != chat.RoleUser {
			t.Fatalf("message %d: the conversation starts %+v", i, msgs[:2])
		}
		if last := msgs[len(msgs)-2]; last.Content != msg || msgs[len(msgs)-1].Role != chat.RoleAssistant {
			t.Fatalf("message %d: the newest exchange is %+v", i, msgs[len(msgs)-2:])
		}
		if used, window := c.ContextUsed(); used > window || r.Stats.GeneratedTokens == 0 {
			t.Fatalf("message %d: %d of %d positions, %d tokens generated", i, used, window, r.Stats.GeneratedTokens)
		}
	}
	// About 600 tokens through a 256-token window, half of which is freed
	// at each drop: a few drops, not one per message.
	if drops < 2 || drops > 6 {
		t.Errorf("old turns were dropped %d times in 12 messages, want 2 to 6", drops)
	}
}

// TestChatPromptTooLong sends a message longer than the window: it must be
// refused whole, with the conversation left as it was.
func TestChatPromptTooLong(t *testing.T) {
	c := newTestChat(t, chat.NameLlama2, 8)
	if _, err := c.Reply(context.Background(), "hello", discard); err != nil {
		t.Fatal(err)
	}
	before := c.Messages()
	_, err := c.Reply(context.Background(), strings.Repeat("word ", 400), discard)
	var tooLong *PromptTooLongError
	if !errors.As(err, &tooLong) || tooLong.Window != 256 || tooLong.Tokens <= 256 {
		t.Fatalf("got %v, want a PromptTooLongError for the 256-token window", err)
	}
	if !reflect.DeepEqual(c.Messages(), before) {
		t.Errorf("a refused message changed the conversation: %+v", c.Messages())
	}
}

// TestCompletionContinuesEachText checks that in completion mode each text
// is continued on its own, exactly as the engine continues it.
func TestCompletionContinuesEachText(t *testing.T) {
	c := newTestChat(t, chat.NameNone, 10)
	want := greedyText(t, baseModel, "Once upon a time", 10)
	for i := range 2 {
		r, err := c.Reply(context.Background(), "Once upon a time", discard)
		if err != nil || r.Text != want {
			t.Errorf("text %d: %q, %v; want %q", i, r.Text, err, want)
		}
	}
}

// TestReplyCancelled stops an answer part way: the partial answer is kept.
func TestReplyCancelled(t *testing.T) {
	c := newTestChat(t, chat.NameLlama2, 0)
	ctx, cancel := context.WithCancel(context.Background())
	var shown strings.Builder
	r, err := c.Reply(ctx, "hello", Stream{Text: func(s string) error {
		shown.WriteString(s)
		if shown.Len() >= 10 {
			cancel()
		}
		return nil
	}})
	if err != nil || r.Stats.Reason != model.StopCancelled {
		t.Fatalf("got %v, reason %v; want no error and %v", err, r.Stats.Reason, model.StopCancelled)
	}
	msgs := c.Messages()
	if r.Text == "" || r.Text != shown.String() || len(msgs) != 2 || msgs[1].Content != r.Text {
		t.Errorf("partial answer %q, shown %q, conversation %+v", r.Text, shown.String(), msgs)
	}
}

// TestReplyWriteError checks that a failing writer stops the answer and
// its error comes back.
func TestReplyWriteError(t *testing.T) {
	c := newTestChat(t, chat.NameNone, 50)
	broken := errors.New("broken pipe")
	_, err := c.Reply(context.Background(), "Once upon a time", Stream{Text: func(string) error { return broken }})
	if !errors.Is(err, broken) {
		t.Errorf("got %v, want the writer's error", err)
	}
}

func TestSaveLoad(t *testing.T) {
	c := newTestChat(t, chat.NameLlama2, 4)
	c.System = "Be brief."
	for _, msg := range []string{"hello", "line one\nline two ✓"} {
		if _, err := c.Reply(context.Background(), msg, discard); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "conversation.json")
	if err := os.WriteFile(path, []byte("an older file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("saving left %d files in the directory", len(entries))
	}
	other := newTestChat(t, chat.NameLlama2, 4)
	if err := other.Load(path); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(other.Messages(), c.Messages()) || other.System != "Be brief." {
		t.Errorf("loaded %+v, want %+v", other.Messages(), c.Messages())
	}
	// A bad file leaves the conversation as it was.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version":1,"messages":[{"role":"robot","content":"x"}]}`), 0o644)
	if err := other.Load(bad); err == nil || !reflect.DeepEqual(other.Messages(), c.Messages()) {
		t.Errorf("loading a bad file: %v; conversation %+v", err, other.Messages())
	}
	if err := c.Save(filepath.Join(dir, "no", "such", "dir.json")); err == nil {
		t.Error("saving into a missing directory succeeded")
	}
}

// TestControlTokensAreNotShown makes the first token the base model
// continues "Once upon a time" with a control token; the answer must leave
// it out, as llama.cpp does, and keep the text around it.
func TestControlTokensAreNotShown(t *testing.T) {
	plain := loadModel(t, baseModel, model.Options{Threads: 1})
	tok := plain.Tokenizer
	prompt := "Once upon a time"
	var ids []int
	_, err := plain.Model.NewSession().Generate(context.Background(), tok.Encode(prompt, tokenizer.EncodeOptions{AddBOS: true}),
		model.GenerateOptions{MaxTokens: 12}, func(id int) error { ids = append(ids, id); return nil })
	if err != nil {
		t.Fatal(err)
	}
	marked := ids[0]
	types, _ := plain.Model.File.Ints("tokenizer.ggml.token_type")
	newTypes := make([]int32, len(types))
	for i, v := range types {
		newTypes[i] = int32(v)
	}
	newTypes[marked] = int32(tokenizer.TypeControl)
	path := filepath.Join(t.TempDir(), "control.gguf")
	if err := copyGGUF(baseModel, path, map[string]any{"tokenizer.ggml.token_type": newTypes}); err != nil {
		t.Fatal(err)
	}
	m := loadModel(t, path, model.Options{Threads: 1})
	s := DefaultSettings()
	s.Sampler.Temperature, s.MaxTokens = 0, len(ids)
	none, err := chat.ByName(chat.NameNone)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewChat(m, none, s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Reply(context.Background(), prompt, discard)
	if err != nil {
		t.Fatal(err)
	}
	var kept []int
	for _, id := range ids {
		if id != marked {
			kept = append(kept, id)
		}
	}
	if want := tok.Decode(kept); r.Text != want || len(kept) == len(ids) {
		t.Fatalf("answer %q, want %q (the continuation %v without control token %d)", r.Text, want, ids, marked)
	}
}

// TestLoadChecksTemplate loads a conversation that starts with an
// assistant message: Llama 2 cannot render it, so /load must refuse it,
// saying why, and keep the conversation, which goes on as before. In
// completion mode it loads, and switching to Llama 2 is then refused.
func TestLoadChecksTemplate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd.json")
	if err := os.WriteFile(path, []byte(`{"version":1,"messages":[{"role":"system","content":"Be brief."},
		{"role":"assistant","content":"Hello, how can I help?"},{"role":"user","content":"hi"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newTestChat(t, chat.NameLlama2, 4)
	if _, err := c.Reply(context.Background(), "hello", discard); err != nil {
		t.Fatal(err)
	}
	before := c.Messages()
	err := c.Load(path)
	if err == nil || !strings.Contains(err.Error(), "llama2 template cannot continue this conversation") || !strings.Contains(err.Error(), "an assistant message must follow a user message") {
		t.Fatalf("loading under llama2: %v", err)
	}
	if !reflect.DeepEqual(c.Messages(), before) {
		t.Errorf("a refused file changed the conversation: %+v", c.Messages())
	}
	if r, err := c.Reply(context.Background(), "and then?", discard); err != nil || r.Stats.GeneratedTokens == 0 {
		t.Errorf("the next message after a refused /load: %v, %d tokens", err, r.Stats.GeneratedTokens)
	}

	none := newTestChat(t, chat.NameNone, 4)
	if err := none.Load(path); err != nil {
		t.Fatalf("loading in completion mode: %v", err)
	}
	llama2, _ := chat.ByName(chat.NameLlama2)
	if err := none.SetTemplate(llama2); err == nil || !strings.Contains(err.Error(), "cannot continue this conversation") || none.Template().Name() != chat.NameNone {
		t.Errorf("switching to llama2 with an assistant message first: %v; template %s", err, none.Template().Name())
	}
	none.Clear()
	if err := none.SetTemplate(llama2); err != nil {
		t.Errorf("switching to llama2 after /clear: %v", err)
	}
}

// TestStopsAtFileEndOfTurn names, as the file's end-of-turn token
// (tokenizer.ggml.eot_token_id), the ordinary token the model writes
// first after "Once upon a time": the answer must end there, before that
// token, in completion mode and in the Llama 2 format, whose text has no
// end marker of its own, in-process and in the bitnet binary.
func TestStopsAtFileEndOfTurn(t *testing.T) {
	base := loadModel(t, baseModel, model.Options{Threads: 1})
	tok := base.Tokenizer
	for _, template := range []string{chat.NameNone, chat.NameLlama2} {
		tmpl, err := chat.ByName(template)
		if err != nil {
			t.Fatal(err)
		}
		// The first token of the greedy answer becomes the end-of-turn token.
		prompt, err := tmpl.Render(tok, []chat.Message{{Role: chat.RoleUser, Content: "Once upon a time"}}, chat.Options{AddAssistantPrompt: true})
		if err != nil {
			t.Fatal(err)
		}
		first := -1
		_, err = base.Model.NewSession().Generate(context.Background(), prompt, model.GenerateOptions{MaxTokens: 1},
			func(id int) error { first = id; return nil })
		if err != nil || first < 0 || tok.Type(first) != tokenizer.TypeNormal || slices.Contains(tmpl.StopTokens(tok), first) {
			t.Fatalf("%s: first token %d (type %d), %v; want a normal token that does not stop", template, first, tok.Type(first), err)
		}
		path := filepath.Join(t.TempDir(), "eot.gguf")
		if err := copyGGUF(baseModel, path, map[string]any{"tokenizer.ggml.eot_token_id": uint32(first)}); err != nil {
			t.Fatal(err)
		}
		m := loadModel(t, path, model.Options{Threads: 1})
		s := DefaultSettings()
		s.Sampler.Temperature, s.MaxTokens = 0, 6
		eot, err := NewChat(m, tmpl, s)
		if err != nil {
			t.Fatal(err)
		}
		r, err := eot.Reply(context.Background(), "Once upon a time", discard)
		if err != nil || r.Stats.Reason != model.StopToken || r.Stats.GeneratedTokens != 0 || r.Text != "" {
			t.Errorf("%s with end-of-turn token %d (%q): answer %q, %d tokens, %v, %v; want it to end at once",
				template, first, tok.Piece(first), r.Text, r.Stats.GeneratedTokens, r.Stats.Reason, err)
		}
		res := runBinary(t, nil, "-m", path, "--template", template, "-p", "Once upon a time", "-n", "6", "--temp", "0", "--json")
		if res.code != 0 || !strings.Contains(res.stdout, `"generated_tokens":0,`) || !strings.Contains(res.stdout, `"stop_reason":"end_of_text"`) {
			t.Errorf("%s: bitnet with end-of-turn token %d: exit %d, %s%s", template, first, res.code, res.stdout, res.stderr)
		}
	}
}
