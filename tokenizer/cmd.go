package tokenizer

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ErrUsage is wrapped by the errors RunTokenize returns for bad command
// lines.
var ErrUsage = errors.New("usage")

const tokenizeUsage = `usage: bitnet tokenize (-m MODEL.gguf | --tokenizer FILE) [--json] [--bos] [TEXT...]

Prints the token ids of TEXT (the arguments joined by spaces, or all of
standard input when there are none) with the vocabulary piece of each.
Special tokens written in the text, such as <|eot_id|>, are matched.
FILE is a tokenizer.json, a SentencePiece tokenizer.model or a GGUF file.

`

// RunTokenize is the "bitnet tokenize" command. args are the arguments after
// the command name. Flags may come before or after the text; "--" ends them.
// It returns an error wrapping ErrUsage for a bad command line, and
// flag.ErrHelp (after printing the usage to stderr) for -h.
func RunTokenize(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var model, tokFile string
	var asJSON, bos bool
	fs.StringVar(&model, "m", "", "GGUF model whose tokenizer to use")
	fs.StringVar(&model, "model", "", "same as -m")
	fs.StringVar(&tokFile, "tokenizer", "", "tokenizer.json, tokenizer.model or GGUF file")
	fs.BoolVar(&asJSON, "json", false, `print one JSON object {"ids": [...], "pieces": [...]}`)
	fs.BoolVar(&bos, "bos", false, "put the beginning-of-sequence token first")
	fs.Usage = func() {
		fmt.Fprint(stderr, tokenizeUsage)
		fs.PrintDefaults()
	}

	// Parse flags between the words of the text as well.
	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			words = append(words, rest...)
			break
		}
		words = append(words, rest[0])
		args = rest[1:]
	}
	if (model == "") == (tokFile == "") {
		fs.Usage()
		return fmt.Errorf("%w: give exactly one of -m and --tokenizer", ErrUsage)
	}

	path := model
	if path == "" {
		path = tokFile
	}
	tok, err := Load(path)
	if err != nil {
		return err
	}
	for _, w := range tok.Warnings() {
		fmt.Fprintf(stderr, "bitnet tokenize: warning: %s\n", w)
	}

	text := strings.Join(words, " ")
	if len(words) == 0 {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
		text = string(data)
	}
	ids := tok.Encode(text, EncodeOptions{AddBOS: bos, ParseSpecial: true})
	return printTokens(stdout, tok, ids, asJSON)
}

// printTokens writes ids and their pieces, as lines "id<TAB>"piece"" or as
// one JSON object.
func printTokens(w io.Writer, tok *Tokenizer, ids []int, asJSON bool) error {
	pieces := make([]string, len(ids))
	for i, id := range ids {
		pieces[i] = tok.Piece(id)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(struct {
			IDs    []int    `json:"ids"`
			Pieces []string `json:"pieces"`
		}{ids, pieces})
	}
	var b strings.Builder
	for i, id := range ids {
		fmt.Fprintf(&b, "%d\t%q\n", id, pieces[i])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
