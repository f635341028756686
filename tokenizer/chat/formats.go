package chat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bitnet-go/bitnet/tokenizer"
)

// text tokenizes s as plain text: special-token text stays text.
func text(tok *tokenizer.Tokenizer, s string) []int {
	return tok.Encode(s, tokenizer.EncodeOptions{})
}

// special returns the id of a special token the format needs.
func special(tok *tokenizer.Tokenizer, format, piece string) (int, error) {
	id, ok := tok.ID(piece)
	if !ok {
		return 0, fmt.Errorf("chat template %s: the vocabulary has no %s token", format, piece)
	}
	return id, nil
}

// withBOS starts ids with BOS when the vocabulary has one.
func withBOS(tok *tokenizer.Tokenizer) []int {
	if tok.BOS() >= 0 {
		return []int{tok.BOS()}
	}
	return nil
}

// stops returns the format's own end markers (the given pieces that are in
// the vocabulary) followed by the tokenizer's stop tokens: EOS, the
// end-of-turn and end-of-message tokens the file names (GGUF
// tokenizer.ggml.eot_token_id and eom_token_id, generation_config.json's
// eos_token_id) and the usual end markers (see Tokenizer.StopTokens). A model
// that ends its turn with the token its file declares therefore stops in
// every format, also in "none" and "llama2", whose text has no marker of its
// own.
func stops(tok *tokenizer.Tokenizer, pieces ...string) []int {
	var ids []int
	add := func(id int) {
		if id >= 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, p := range pieces {
		if id, ok := tok.ID(p); ok {
			add(id)
		}
	}
	for _, id := range tok.StopTokens() {
		add(id)
	}
	return ids
}

func checkRole(format, role string) error {
	switch role {
	case RoleSystem, RoleUser, RoleAssistant:
		return nil
	}
	return fmt.Errorf("chat template %s: unknown role %q", format, role)
}

// bitnetTemplate is BitNet b1.58 2B4T's format: BOS, then "Role: content"
// and <|eot_id|> per message, the header and the trimmed content tokenized
// apart; the prompt ends with "Assistant: ".
type bitnetTemplate struct{}

func (bitnetTemplate) Name() string { return NameBitNet }

var bitnetRoles = map[string]string{RoleSystem: "System: ", RoleUser: "User: ", RoleAssistant: "Assistant: "}

func (bitnetTemplate) Render(tok *tokenizer.Tokenizer, msgs []Message, opts Options) ([]int, error) {
	eot, err := special(tok, NameBitNet, "<|eot_id|>")
	if err != nil {
		return nil, err
	}
	ids := withBOS(tok)
	for _, m := range msgs {
		if err := checkRole(NameBitNet, m.Role); err != nil {
			return nil, err
		}
		ids = append(ids, text(tok, bitnetRoles[m.Role])...)
		ids = append(ids, text(tok, strings.TrimSpace(m.Content))...)
		ids = append(ids, eot)
	}
	if opts.AddAssistantPrompt {
		ids = append(ids, text(tok, bitnetRoles[RoleAssistant])...)
	}
	return ids, nil
}

func (bitnetTemplate) StopTokens(tok *tokenizer.Tokenizer) []int {
	return stops(tok, "<|eot_id|>")
}

// llama3Template is the Llama 3 instruct format:
// <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>.
type llama3Template struct{}

func (llama3Template) Name() string { return NameLlama3 }

func (llama3Template) Render(tok *tokenizer.Tokenizer, msgs []Message, opts Options) ([]int, error) {
	var ids [3]int
	for i, p := range []string{"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"} {
		id, err := special(tok, NameLlama3, p)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	start, end, eot := ids[0], ids[1], ids[2]
	out := withBOS(tok)
	header := func(role string) {
		out = append(out, start)
		out = append(out, text(tok, role)...)
		out = append(out, end)
	}
	for _, m := range msgs {
		if err := checkRole(NameLlama3, m.Role); err != nil {
			return nil, err
		}
		header(m.Role)
		out = append(out, text(tok, "\n\n"+strings.TrimSpace(m.Content))...)
		out = append(out, eot)
	}
	if opts.AddAssistantPrompt {
		header(RoleAssistant)
		out = append(out, text(tok, "\n\n")...)
	}
	return out, nil
}

func (llama3Template) StopTokens(tok *tokenizer.Tokenizer) []int {
	return stops(tok, "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>")
}

// llama2Template is Meta's Llama 2 chat format: each exchange is
// BOS "[INST] user [/INST] answer " EOS, tokenized as one piece of text, and
// a system message is folded into the first user message between <<SYS>>
// markers. A conversation that ends with a user message already ends with
// the assistant's cue, "[/INST]".
type llama2Template struct{}

func (llama2Template) Name() string { return NameLlama2 }

func (llama2Template) Render(tok *tokenizer.Tokenizer, msgs []Message, _ Options) ([]int, error) {
	var out []int
	system := ""
	pending := "" // a user message waiting for its answer
	open := false
	for i, m := range msgs {
		if err := checkRole(NameLlama2, m.Role); err != nil {
			return nil, err
		}
		content := strings.TrimSpace(m.Content)
		switch m.Role {
		case RoleSystem:
			if i != 0 {
				return nil, fmt.Errorf("chat template %s: a system message must come first", NameLlama2)
			}
			system = "<<SYS>>\n" + content + "\n<</SYS>>\n\n"
		case RoleUser:
			if open {
				out = append(append(out, withBOS(tok)...), text(tok, "[INST] "+pending+" [/INST]")...)
			}
			pending, open = system+content, true
			system = ""
		case RoleAssistant:
			if !open {
				return nil, fmt.Errorf("chat template %s: an assistant message must follow a user message", NameLlama2)
			}
			out = append(append(out, withBOS(tok)...), text(tok, "[INST] "+pending+" [/INST] "+content+" ")...)
			if tok.EOS() >= 0 {
				out = append(out, tok.EOS())
			}
			open = false
		}
	}
	if open {
		out = append(append(out, withBOS(tok)...), text(tok, "[INST] "+pending+" [/INST]")...)
	}
	return out, nil
}

func (llama2Template) StopTokens(tok *tokenizer.Tokenizer) []int { return stops(tok) }

// chatMLTemplate is <|im_start|>role\ncontent<|im_end|>\n per message, with
// BOS only when the tokenizer adds one by default.
type chatMLTemplate struct{}

func (chatMLTemplate) Name() string { return NameChatML }

func (chatMLTemplate) Render(tok *tokenizer.Tokenizer, msgs []Message, opts Options) ([]int, error) {
	start, err := special(tok, NameChatML, "<|im_start|>")
	if err != nil {
		return nil, err
	}
	end, err := special(tok, NameChatML, "<|im_end|>")
	if err != nil {
		return nil, err
	}
	var out []int
	if tok.AddBOSByDefault() {
		out = withBOS(tok)
	}
	for _, m := range msgs {
		if err := checkRole(NameChatML, m.Role); err != nil {
			return nil, err
		}
		out = append(out, start)
		out = append(out, text(tok, m.Role+"\n"+m.Content)...)
		out = append(out, end)
		out = append(out, text(tok, "\n")...)
	}
	if opts.AddAssistantPrompt {
		out = append(out, start)
		out = append(out, text(tok, RoleAssistant+"\n")...)
	}
	return out, nil
}

func (chatMLTemplate) StopTokens(tok *tokenizer.Tokenizer) []int { return stops(tok, "<|im_end|>") }

// noneTemplate continues plain text: BOS when the model expects it, then
// the contents one after another with nothing in between.
type noneTemplate struct{}

func (noneTemplate) Name() string { return NameNone }

func (noneTemplate) Render(tok *tokenizer.Tokenizer, msgs []Message, _ Options) ([]int, error) {
	var b strings.Builder
	for _, m := range msgs {
		if err := checkRole(NameNone, m.Role); err != nil {
			return nil, err
		}
		b.WriteString(m.Content)
	}
	return tok.Encode(b.String(), tokenizer.EncodeOptions{AddBOS: tok.AddBOSByDefault()}), nil
}

func (noneTemplate) StopTokens(tok *tokenizer.Tokenizer) []int { return stops(tok) }
