package repl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/tokenizer"
	"github.com/bitnet-go/bitnet/tokenizer/chat"
)

// Model is a loaded model and its tokenizer, as a chat runs it.
type Model struct {
	Model     *model.Model
	Tokenizer *tokenizer.Tokenizer
	// Name is how the model is shown: a file name or the embedded model's name.
	Name string
	// Path is where the model was loaded from; empty for the embedded model.
	Path string
}

// Chat is a conversation with a model: the system prompt, the turns so far,
// the chat template, the settings, and the session whose KV cache holds the
// conversation as last evaluated, so that each answer only evaluates what is
// new. With the "none" template the chat is in completion mode: each text is
// continued on its own, after the system prompt if there is one.
type Chat struct {
	// Settings apply from the next answer on.
	Settings Settings
	// System is the system prompt; empty for none.
	System string

	model    Model
	template chat.Template
	turns    []chat.Message
	session  *model.Session
}

// Reply is the outcome of one answer.
type Reply struct {
	// Text is the answer as written, also when it was stopped early.
	Text string
	// Stats are the engine's statistics; Stats.Reason says why it ended
	// (model.StopCancelled when the context was cancelled).
	Stats model.Stats
	// Dropped is the number of messages dropped from the start of the
	// conversation to make room in the context window.
	Dropped int
}

// Stream receives an answer while it is made.
type Stream struct {
	// Dropped, if not nil, is called before the answer when the oldest n
	// messages had to be dropped to fit the context window.
	Dropped func(n int)
	// Text receives the answer in pieces of valid UTF-8. An error stops the
	// answer and is returned by Reply.
	Text func(s string) error
}

// PromptTooLongError reports a message that does not fit the context window
// even with every earlier turn dropped.
type PromptTooLongError struct {
	Tokens int // tokens of the prompt: system prompt, message and template
	Window int // positions in the context window
}

func (e *PromptTooLongError) Error() string {
	return fmt.Sprintf("the prompt is %d tokens, more than the %d-token context window", e.Tokens, e.Window)
}

// NewChat starts an empty conversation with m in template t.
func NewChat(m Model, t chat.Template, s Settings) (*Chat, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	c := &Chat{Settings: s, model: m, session: m.Model.NewSession()}
	if err := c.SetTemplate(t); err != nil {
		return nil, err
	}
	return c, nil
}

// TemplateFor chooses the chat template of a model: the one its
// architecture or its chat template text names (chat.ForModel), when the
// tokenizer has the special tokens that format needs; otherwise "none", so
// that a base model continues text.
func TemplateFor(m *model.Model, tok *tokenizer.Tokenizer) chat.Template {
	t := chat.ForModel(m.Config.Arch, tok)
	if checkTemplate(t, tok) != nil {
		t, _ = chat.ByName(chat.NameNone)
	}
	return t
}

// checkTemplate reports whether t can render conversations with tok.
func checkTemplate(t chat.Template, tok *tokenizer.Tokenizer) error {
	probe := []chat.Message{{Role: chat.RoleSystem, Content: "s"}, {Role: chat.RoleUser, Content: "u"}, {Role: chat.RoleAssistant, Content: "a"}, {Role: chat.RoleUser, Content: "u"}}
	_, err := t.Render(tok, probe, chat.Options{AddAssistantPrompt: true})
	return err
}

// Model returns the chat's model.
func (c *Chat) Model() Model { return c.model }

// Template returns the chat template in use.
func (c *Chat) Template() chat.Template { return c.template }

// SetTemplate switches the chat template; the conversation is kept. A
// template that cannot render the conversation so far (Llama 2 after an
// assistant message that answers nothing, say) is refused.
func (c *Chat) SetTemplate(t chat.Template) error {
	if err := checkTemplate(t, c.model.Tokenizer); err != nil {
		return fmt.Errorf("template %s does not suit this model: %w", t.Name(), err)
	}
	if err := c.checkConversation(t, c.System, c.turns); err != nil {
		return fmt.Errorf("template %s cannot continue this conversation (%w): /clear starts a new one", t.Name(), err)
	}
	c.template = t
	return nil
}

// checkConversation reports whether t can render the conversation of
// system and turns followed by a new user message, as the next Reply will.
func (c *Chat) checkConversation(t chat.Template, system string, turns []chat.Message) error {
	msgs := make([]chat.Message, 0, len(turns)+2)
	if system != "" {
		msgs = append(msgs, chat.Message{Role: chat.RoleSystem, Content: system})
	}
	msgs = append(msgs, turns...)
	msgs = append(msgs, chat.Message{Role: chat.RoleUser, Content: "next"})
	_, err := t.Render(c.model.Tokenizer, msgs, chat.Options{AddAssistantPrompt: true})
	return err
}

// Completion reports whether the chat is in completion mode (the "none"
// template): texts are continued rather than answered.
func (c *Chat) Completion() bool { return c.template.Name() == chat.NameNone }

// Messages returns the conversation: the system prompt, if any, then the
// turns. The slice is a copy.
func (c *Chat) Messages() []chat.Message {
	var msgs []chat.Message
	if c.System != "" {
		msgs = append(msgs, chat.Message{Role: chat.RoleSystem, Content: c.System})
	}
	return append(msgs, c.turns...)
}

// SetMessages replaces the conversation. A leading system message becomes
// the system prompt (an empty one is dropped); the others must be user or
// assistant messages, in an order the chat template can render (Llama 2
// cannot start with an assistant message). On error the conversation is
// unchanged.
func (c *Chat) SetMessages(msgs []chat.Message) error {
	system := ""
	if len(msgs) > 0 && msgs[0].Role == chat.RoleSystem {
		system, msgs = msgs[0].Content, msgs[1:]
	}
	for i, m := range msgs {
		if m.Role != chat.RoleUser && m.Role != chat.RoleAssistant {
			return fmt.Errorf("message %d: role %q (want user or assistant; a system message may only come first)", i+1, m.Role)
		}
	}
	if err := c.checkConversation(c.template, system, msgs); err != nil {
		return fmt.Errorf("the %s template cannot continue this conversation (%w); the current one is kept", c.template.Name(), err)
	}
	c.System = system
	c.turns = append([]chat.Message(nil), msgs...)
	return nil
}

// Clear starts a new conversation; the system prompt and settings stay.
func (c *Chat) Clear() { c.turns = nil }

// ContextUsed returns the positions of the context window in use and its size.
func (c *Chat) ContextUsed() (used, window int) { return c.session.Len(), c.session.Cap() }

// SetThreads changes the number of threads the model runs on (0: one per
// CPU); no answer may be running.
func (c *Chat) SetThreads(n int) error { return c.model.Model.SetThreads(n) }

// Reply adds text as the user's message and generates the answer, which
// becomes part of the conversation, also when ctx is cancelled part way
// (Reply then returns no error and Stats.Reason is model.StopCancelled).
// When the conversation would overflow the context window the oldest turns
// are dropped; a message that does not fit even alone gives a
// *PromptTooLongError and leaves the conversation as it was.
func (c *Chat) Reply(ctx context.Context, text string, out Stream) (Reply, error) {
	c.turns = append(c.turns, chat.Message{Role: chat.RoleUser, Content: text})
	ids, dropped, err := c.prompt()
	if err != nil {
		c.turns = c.turns[:len(c.turns)-1]
		return Reply{}, err
	}
	if dropped > 0 {
		c.turns = c.turns[dropped:]
		if out.Dropped != nil {
			out.Dropped(dropped)
		}
	}
	tok := c.model.Tokenizer
	dec := tok.NewStreamDecoder()
	var answer strings.Builder
	write := func(s string) error {
		if s == "" {
			return nil
		}
		answer.WriteString(s)
		return out.Text(s)
	}
	stats, err := c.session.Generate(ctx, ids, model.GenerateOptions{
		MaxTokens:  c.Settings.MaxTokens,
		Sampler:    c.Settings.samplerFor(),
		StopTokens: c.template.StopTokens(tok),
	}, func(id int) error {
		// Control tokens (a stray <|begin_of_text|>, say) are markup, not
		// text: like llama.cpp, do not show them or keep them in the answer.
		if tok.IsControl(id) {
			return nil
		}
		return write(dec.Add(id))
	})
	if werr := write(dec.Flush()); err == nil {
		err = werr
	}
	c.turns = append(c.turns, chat.Message{Role: chat.RoleAssistant, Content: answer.String()})
	r := Reply{Text: answer.String(), Stats: stats, Dropped: dropped}
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		r.Stats.Reason = model.StopCancelled
		return r, nil
	}
	return r, err
}

// prompt renders the conversation for the next answer and returns its ids
// and how many messages must be dropped from the start of the turns. When
// the whole conversation leaves too little room for an answer, whole
// exchanges are dropped from the start until it fills at most half the
// window, so that the next turns do not each drop one more exchange and
// evaluate the whole prompt again.
func (c *Chat) prompt() (ids []int, dropped int, err error) {
	window := c.session.Cap()
	last := len(c.turns) - 1 // the new user message
	render := func(start int) ([]int, error) {
		var msgs []chat.Message
		if c.System != "" {
			msgs = append(msgs, chat.Message{Role: chat.RoleSystem, Content: c.System})
		}
		if c.Completion() {
			start = last
		}
		msgs = append(msgs, c.turns[start:]...)
		ids, err := c.template.Render(c.model.Tokenizer, msgs, chat.Options{AddAssistantPrompt: true})
		if err != nil {
			return nil, fmt.Errorf("render the conversation: %w", err)
		}
		return ids, nil
	}
	if ids, err = render(0); err != nil {
		return nil, 0, err
	}
	if len(ids)+c.answerRoom(window) > window && !c.Completion() {
		target := min(window-c.answerRoom(window), window/2)
		for dropped < last && len(ids) > target {
			dropped = c.nextUser(dropped + 1)
			if ids, err = render(dropped); err != nil {
				return nil, 0, err
			}
		}
	}
	if len(ids) > window {
		return nil, 0, &PromptTooLongError{Tokens: len(ids), Window: window}
	}
	return ids, dropped, nil
}

// nextUser returns the index of the first user message at or after i, or
// the index of the new message.
func (c *Chat) nextUser(i int) int {
	for ; i < len(c.turns)-1; i++ {
		if c.turns[i].Role == chat.RoleUser {
			return i
		}
	}
	return len(c.turns) - 1
}

// answerRoom is the room kept free for an answer when deciding whether to
// drop turns: max_tokens when it is set, else a quarter of the window, and
// never more than half of it.
func (c *Chat) answerRoom(window int) int {
	if m := c.Settings.MaxTokens; m > 0 {
		return min(m, window/2)
	}
	return window / 4
}
