package repl

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/tokenizer"
	"github.com/bitnet-go/bitnet/tokenizer/chat"
)

// pollContext stands for the context a Ctrl+C cancels, on a clock that
// counts the engine's checks instead of time: the interrupt arrives just
// after the check numbered arriveAfter has answered "not cancelled", and
// every later check reports context.Canceled. Generation runs in one
// goroutine, which is the only caller of Err.
type pollContext struct {
	context.Context
	arriveAfter int    // 0: never
	checks      int    // calls of Err so far
	arrived     bool   // the interrupt has arrived
	onArrive    func() // called when it arrives, to note what was done by then
}

func newPollContext(arriveAfter int, onArrive func()) *pollContext {
	return &pollContext{Context: context.Background(), arriveAfter: arriveAfter, onArrive: onArrive}
}

func (c *pollContext) Err() error {
	c.checks++
	if c.arrived {
		return context.Canceled
	}
	if c.checks == c.arriveAfter {
		c.arrived = true
		if c.onArrive != nil {
			c.onArrive()
		}
	}
	return nil
}

// encodeN returns the ids of a text of at least n tokens, cut to n.
func encodeN(t *testing.T, tok *tokenizer.Tokenizer, n int) []int {
	t.Helper()
	text := strings.Repeat("Once upon a time there was a little dog named Max. ", n/8+1)
	ids := tok.Encode(text, tokenizer.EncodeOptions{AddBOS: tok.AddBOSByDefault()})
	if len(ids) < n {
		t.Fatalf("the text has %d tokens, want %d", len(ids), n)
	}
	return ids[:n]
}

// TestGenerateStopsAtNextCheck interrupts a generation after each of its
// checks in turn, through the prompt and the first answer tokens: the
// engine must return at the very next check, having produced at most one
// more token. It checks once per layer of every forward pass and once per
// token, so what runs after an interrupt is at most one layer's work or one
// token's sampling: the measure of how soon Ctrl+C is back at the prompt.
func TestGenerateStopsAtNextCheck(t *testing.T) {
	m := loadModel(t, endlessChat, model.Options{Threads: 1})
	prompt := encodeN(t, m.Tokenizer, 20)
	opts := model.GenerateOptions{StopTokens: m.Tokenizer.StopTokens()}

	// Uninterrupted (up to 8 tokens), to count the checks a token takes.
	emitted := 0
	free := newPollContext(0, nil)
	opts.MaxTokens = 8
	if _, err := m.Model.NewSession().Generate(free, prompt, opts, func(int) error { emitted++; return nil }); err != nil || emitted != 8 {
		t.Fatalf("uninterrupted: %d tokens, %v", emitted, err)
	}
	// 8 forward passes: the prompt and the first 7 tokens.
	if layers := m.Model.Config.Layers; free.checks < 8*layers {
		t.Fatalf("%d checks for the prompt and 8 tokens of a %d-layer model: fewer than one per layer", free.checks, layers)
	}

	opts.MaxTokens = 0 // the endless model would write to the end of the window
	for arrive := 1; arrive < free.checks; arrive++ {
		emitted, atArrival := 0, -1
		ctx := newPollContext(arrive, func() { atArrival = emitted })
		st, err := m.Model.NewSession().Generate(ctx, prompt, opts, func(int) error { emitted++; return nil })
		if !errors.Is(err, context.Canceled) || st.Reason != model.StopCancelled {
			t.Fatalf("interrupt after check %d: %v, reason %v; want context.Canceled", arrive, err, st.Reason)
		}
		if ctx.checks != arrive+1 {
			t.Errorf("interrupt after check %d: returned after check %d, want %d", arrive, ctx.checks, arrive+1)
		}
		if after := emitted - atArrival; after > 1 || st.GeneratedTokens != emitted {
			t.Errorf("interrupt after check %d: %d tokens after it (%d in all, stats %d), want at most 1", arrive, after, emitted, st.GeneratedTokens)
		}
	}
}

// TestPrefillStopsAtNextCheck interrupts the evaluation of a prompt that
// fills the window (four batches of 64 tokens): Forward must return at the
// next check, within the batch it is in, keeping only the batches done.
func TestPrefillStopsAtNextCheck(t *testing.T) {
	m := loadModel(t, baseModel, model.Options{Threads: 1})
	s := m.Model.NewSession()
	prompt := encodeN(t, m.Tokenizer, s.Cap())
	free := newPollContext(0, nil)
	if err := s.Forward(free, prompt, nil); err != nil {
		t.Fatal(err)
	}
	batches := (len(prompt) + model.DefaultBatchSize - 1) / model.DefaultBatchSize
	if want := batches * m.Model.Config.Layers; free.checks != want {
		t.Fatalf("the prompt took %d checks, want one per layer and batch: %d", free.checks, want)
	}
	for arrive := 1; arrive < free.checks; arrive++ {
		s := m.Model.NewSession()
		ctx := newPollContext(arrive, nil)
		err := s.Forward(ctx, prompt, nil)
		if !errors.Is(err, context.Canceled) || ctx.checks != arrive+1 {
			t.Fatalf("interrupt after check %d: %v after check %d; want context.Canceled at check %d", arrive, err, ctx.checks, arrive+1)
		}
		if done := arrive / m.Model.Config.Layers * model.DefaultBatchSize; s.Len() != done {
			t.Errorf("interrupt after check %d: %d positions kept, want the %d of the finished batches", arrive, s.Len(), done)
		}
	}
}

// TestReplyInterrupted interrupts a chat's answer part way and its prompt
// evaluation: Reply returns with model.StopCancelled and no error, nothing
// is shown after the interrupt but the piece of at most one token, and the
// chat answers the next message.
func TestReplyInterrupted(t *testing.T) {
	m := loadModel(t, endlessChat, model.Options{Threads: 1})
	llama2, err := chat.ByName(chat.NameLlama2)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings()
	s.Sampler.Temperature = 0
	c, err := NewChat(m, llama2, s)
	if err != nil {
		t.Fatal(err)
	}
	// An interrupt during the answer: the prompt of "hello" is short, and
	// each token takes 1 + layers checks.
	layers := m.Model.Config.Layers
	shown, atArrival := 0, -1
	ctx := newPollContext(layers+20*(layers+1)+3, func() { atArrival = shown })
	r, err := c.Reply(ctx, "hello", Stream{Text: func(string) error { shown++; return nil }})
	if err != nil || r.Stats.Reason != model.StopCancelled {
		t.Fatalf("got %v, reason %v; want no error and %v", err, r.Stats.Reason, model.StopCancelled)
	}
	if atArrival < 10 || shown-atArrival > 1 {
		t.Errorf("%d pieces shown before the interrupt and %d after; want some before and at most 1 after", atArrival, shown-atArrival)
	}
	if msgs := c.Messages(); len(msgs) != 2 || msgs[1].Content != r.Text || r.Text == "" {
		t.Errorf("the partial answer %q is not kept: %+v", r.Text, msgs)
	}

	// An interrupt while a long message is evaluated: no answer at all.
	ctx = newPollContext(2, nil)
	r, err = c.Reply(ctx, strings.Repeat("tell me more ", 40), Stream{Text: func(s string) error {
		t.Errorf("shown %q after an interrupt during the prompt", s)
		return nil
	}})
	if err != nil || r.Stats.Reason != model.StopCancelled || r.Stats.GeneratedTokens != 0 {
		t.Fatalf("interrupt in the prompt: %v, reason %v, %d tokens", err, r.Stats.Reason, r.Stats.GeneratedTokens)
	}
	c.Settings.MaxTokens = 4
	if r, err := c.Reply(context.Background(), "and then?", discard); err != nil || r.Stats.GeneratedTokens != 4 {
		t.Errorf("the answer after the interrupts: %d tokens, %v", r.Stats.GeneratedTokens, err)
	}
}
