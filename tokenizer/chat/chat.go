// Package chat formats conversations as token ids for the chat formats of
// the models bitnet runs, and says which tokens end the model's turn.
//
// Role headers and message contents are tokenized separately, and contents
// never have special tokens parsed, so a user who types "<|eot_id|>" sends
// text, not an end-of-turn token.
package chat

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bitnet-go/bitnet/tokenizer"
)

// Message roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string // RoleSystem, RoleUser or RoleAssistant
	Content string
}

// Options control Render.
type Options struct {
	// AddAssistantPrompt ends the ids with the header of an assistant turn,
	// so that what the model generates next is its reply.
	AddAssistantPrompt bool
}

// Template is one chat format.
type Template interface {
	// Name is the name ByName knows the template by.
	Name() string
	// Render converts a conversation to token ids with tok, the beginning
	// of sequence token included when the format has one.
	Render(tok *tokenizer.Tokenizer, msgs []Message, opts Options) ([]int, error)
	// StopTokens are the tokens that end the model's turn: the format's
	// own end markers and every stop token of tok (Tokenizer.StopTokens:
	// EOS, the end-of-turn and end-of-message ids its file names, the
	// usual end markers).
	StopTokens(tok *tokenizer.Tokenizer) []int
}

// The template names.
const (
	NameBitNet = "bitnet" // BitNet b1.58 2B4T: "User: hello<|eot_id|>Assistant: "
	NameLlama3 = "llama3" // Llama 3 instruct: <|start_header_id|>user<|end_header_id|>\n\nhello<|eot_id|>
	NameLlama2 = "llama2" // Llama 2 chat: <s>[INST] hello [/INST]
	NameChatML = "chatml" // <|im_start|>user\nhello<|im_end|>
	NameNone   = "none"   // plain continuation of the text, for base models
)

var templates = map[string]Template{
	NameBitNet: bitnetTemplate{},
	NameLlama3: llama3Template{},
	NameLlama2: llama2Template{},
	NameChatML: chatMLTemplate{},
	NameNone:   noneTemplate{},
}

// Names lists the template names, sorted.
func Names() []string {
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ByName returns the template called name.
func ByName(name string) (Template, error) {
	if t, ok := templates[strings.ToLower(name)]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("unknown chat template %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Detect recognises a known format in the text of a chat template (GGUF
// tokenizer.chat_template, the Jinja source of tokenizer_config.json).
func Detect(source string) (Template, bool) {
	has := func(s ...string) bool {
		for _, x := range s {
			if !strings.Contains(source, x) {
				return false
			}
		}
		return true
	}
	switch {
	case has("<|start_header_id|>", "<|end_header_id|>"):
		return templates[NameLlama3], true
	case has("<|im_start|>", "<|im_end|>"):
		return templates[NameChatML], true
	case has("[INST]", "[/INST]", "<<SYS>>"):
		return templates[NameLlama2], true
	case has("Assistant: ", "<|eot_id|>"):
		return templates[NameBitNet], true
	}
	return nil, false
}

// ForModel picks the template for a model: "bitnet" for the BitNet b1.58
// architectures (whose GGUF files carry a stale Llama 3 template), else the
// one Detect finds in the tokenizer's chat template, else "none".
func ForModel(arch string, tok *tokenizer.Tokenizer) Template {
	switch arch {
	case "bitnet-b1.58", "bitnet-25":
		return templates[NameBitNet]
	}
	if t, ok := Detect(tok.ChatTemplate()); ok {
		return t
	}
	return templates[NameNone]
}
