package repl

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/model/gguf"
)

// The tests in this package that drive the real bitnet binary use one build
// of it, made by TestMain, and two small models from the shared golden test
// data: a base model without a chat template (completion mode) and a copy of
// it whose tokenizer carries a Llama 2 chat template (chat mode).
var (
	binary      string // the bitnet binary built for the tests
	testdataErr error  // why the shared test data cannot be used
	baseModel   string // random-weight model without a chat template, 256-token context
	chatModel   string // the same weights with a Llama 2 chat template
)

// llama2TemplateSource is enough of a Llama 2 chat template for
// chat.Detect to recognise it.
const llama2TemplateSource = `{% for m in messages %}{% if m['role'] == 'system' %}<<SYS>>\n{{ m['content'] }}\n<</SYS>>{% elif m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]{% else %}{{ m['content'] }}{% endif %}{% endfor %}`

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bitnet-repl-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binary = filepath.Join(dir, "bitnet")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build bitnet: %v\n%s", err, out)
		return 1
	}
	baseModel = filepath.Join(root, "..", "shared", "testdata", "models", "b158-relu2-tq2_0", "model.gguf")
	if _, err := os.Stat(baseModel); err != nil {
		testdataErr = fmt.Errorf("shared test data absent: %w", err)
	} else {
		chatModel = filepath.Join(dir, "chat.gguf")
		if err := withChatTemplate(baseModel, chatModel, llama2TemplateSource); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

// needModels skips a test when the shared test models are absent.
func needModels(t *testing.T) {
	t.Helper()
	if testdataErr != nil {
		t.Skip(testdataErr)
	}
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// withChatTemplate copies the GGUF file src to dst with
// tokenizer.chat_template set to template.
func withChatTemplate(src, dst, template string) error {
	return copyGGUF(src, dst, map[string]any{"tokenizer.chat_template": template})
}

// copyGGUF copies the GGUF file src to dst with the metadata in set added
// or replaced.
func copyGGUF(src, dst string, set map[string]any) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := gguf.Parse(b)
	if err != nil {
		return fmt.Errorf("parse %s: %w", src, err)
	}
	w := gguf.NewWriter()
	for _, kv := range f.KVs {
		w.AddKV(kv.Key, kv.Value.Any())
	}
	for k, v := range set {
		w.AddKV(k, v)
	}
	for _, t := range f.Tensors {
		w.AddTensor(t.Name, t.Type, t.Dims, t.Data)
	}
	return w.WriteFile(dst)
}

// result is what a run of the binary produced.
type result struct {
	code           int
	stdout, stderr string
}

// runBinary runs bitnet with stdin and args, without a terminal.
func runBinary(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = testEnv(t.TempDir(), "NO_COLOR=1")
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run bitnet %v: %v", args, err)
	}
	r := result{code, out.String(), errb.String()}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("bitnet %v crashed:\n%s", args, r.stderr)
	}
	return r
}

// testEnv is the environment of a bitnet run: home as the home directory
// and home/state as the state directory, so tests never read or write the
// user's history, plus extra.
func testEnv(home string, extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"TERM=xterm",
	}
	return append(env, extra...)
}
