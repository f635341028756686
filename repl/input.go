package repl

import "strings"

// lineReader is the part of a readline instance that reading entries needs.
type lineReader interface {
	Readline() (string, error)
	SetPrompt(prompt string)
}

// entry is one input the user submitted.
type entry struct {
	text      string // the text, without """ markers
	multiline bool   // typed between """ markers
}

// readEntry reads one entry: a line, or everything between a line that
// starts with """ and a line that ends with """ (text on the marker lines
// belongs to the entry). A line of the form """...""" is a whole entry; it
// is how a multi-line entry comes back from the history, with ↵ for each
// line break. On an error (readline.ErrInterrupt for Ctrl+C, io.EOF for
// Ctrl+D) the entry holds what was typed so far and the partial entry is
// dropped by the caller.
func readEntry(r lineReader, prompt, more string) (entry, error) {
	r.SetPrompt(prompt)
	line, err := r.Readline()
	if err != nil {
		return entry{text: line}, err
	}
	body, ok := strings.CutPrefix(strings.TrimLeft(line, " \t"), multilineQuote)
	if !ok {
		return entry{text: line}, nil
	}
	if inner, closed := cutClosingQuote(body); closed {
		return entry{text: strings.ReplaceAll(inner, historyNewline, "\n"), multiline: true}, nil
	}
	var lines []string
	if strings.TrimSpace(body) != "" {
		lines = append(lines, body)
	}
	r.SetPrompt(more)
	defer r.SetPrompt(prompt)
	for {
		line, err := r.Readline()
		if err != nil {
			return entry{text: multilineQuote + strings.Join(append(lines, line), "\n"), multiline: true}, err
		}
		if inner, closed := cutClosingQuote(line); closed {
			if strings.TrimSpace(inner) != "" {
				lines = append(lines, inner)
			}
			return entry{text: strings.Join(lines, "\n"), multiline: true}, nil
		}
		lines = append(lines, line)
	}
}

// cutClosingQuote returns s without a closing """ and whether it had one.
func cutClosingQuote(s string) (string, bool) {
	return strings.CutSuffix(strings.TrimRight(s, " \t"), multilineQuote)
}
