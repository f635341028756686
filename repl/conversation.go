package repl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/tokenizer/chat"
)

// conversationVersion is the version of the conversation file format.
const conversationVersion = 1

// maxConversationBytes bounds the size of a conversation file /load reads.
// The largest context windows hold about a million bytes of text; this
// leaves room for long histories without letting a wrong file exhaust memory.
const maxConversationBytes = 64 << 20

// Conversation is the file /save writes and /load reads: JSON with the
// messages in the common {"role", "content"} form, the system prompt as a
// leading "system" message.
//
//	{"version": 1, "model": "model.gguf", "template": "llama3",
//	 "messages": [{"role": "system", "content": "Be brief."},
//	              {"role": "user", "content": "hello"},
//	              {"role": "assistant", "content": "Hi!"}]}
type Conversation struct {
	Version int `json:"version"`
	// Model and Template say what the conversation was held with; /load
	// does not require them to match.
	Model    string    `json:"model,omitempty"`
	Template string    `json:"template,omitempty"`
	Messages []Message `json:"messages"`
}

// Message is one message of a Conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// conversation returns the chat as a Conversation.
func (c *Chat) conversation() Conversation {
	conv := Conversation{Version: conversationVersion, Model: c.model.Name, Template: c.template.Name(), Messages: []Message{}}
	for _, m := range c.Messages() {
		conv.Messages = append(conv.Messages, Message{Role: m.Role, Content: m.Content})
	}
	return conv
}

// Save writes the conversation to path as JSON. The file is written to a
// temporary name and renamed, so an existing file is never left half
// written.
func (c *Chat) Save(path string) error {
	b, err := json.MarshalIndent(c.conversation(), "", "  ")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	b = append(b, '\n')
	if err := gguf.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// Load replaces the conversation with the one saved in path. A conversation
// the chat template cannot render is refused (see SetMessages). On error the
// conversation is unchanged.
func (c *Chat) Load(path string) error {
	conv, err := ReadConversation(path)
	if err != nil {
		return err
	}
	msgs := make([]chat.Message, len(conv.Messages))
	for i, m := range conv.Messages {
		msgs[i] = chat.Message{Role: m.Role, Content: m.Content}
	}
	if err := c.SetMessages(msgs); err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	return nil
}

// ReadConversation reads and checks a conversation file.
func ReadConversation(path string) (Conversation, error) {
	var conv Conversation
	f, err := os.Open(path)
	if err != nil {
		return conv, fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConversationBytes+1))
	if err != nil {
		return conv, fmt.Errorf("load %s: %w", path, err)
	}
	if len(b) > maxConversationBytes {
		return conv, fmt.Errorf("load %s: larger than %d MiB, too large for a conversation", path, maxConversationBytes>>20)
	}
	if conv, err = parseConversation(b); err != nil {
		return conv, fmt.Errorf("load %s: %w", path, err)
	}
	return conv, nil
}

// parseConversation decodes and checks the JSON of a conversation.
func parseConversation(b []byte) (Conversation, error) {
	var conv Conversation
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&conv); err != nil {
		return Conversation{}, fmt.Errorf("not a bitnet conversation file: %w", err)
	}
	if dec.More() {
		return Conversation{}, errors.New("not a bitnet conversation file: data after the JSON object")
	}
	switch {
	case conv.Version != conversationVersion:
		return Conversation{}, fmt.Errorf("conversation file version %d, want %d", conv.Version, conversationVersion)
	case conv.Messages == nil:
		return Conversation{}, errors.New("not a bitnet conversation file: no \"messages\"")
	}
	for i, m := range conv.Messages {
		switch m.Role {
		case chat.RoleUser, chat.RoleAssistant:
		case chat.RoleSystem:
			if i != 0 {
				return Conversation{}, fmt.Errorf("message %d: a system message may only come first", i+1)
			}
		default:
			return Conversation{}, fmt.Errorf("message %d: unknown role %q (want system, user or assistant)", i+1, m.Role)
		}
	}
	return conv, nil
}
