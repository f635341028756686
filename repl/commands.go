package repl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/chzyer/readline"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/tokenizer/chat"
)

// command is one slash command.
type command struct {
	name, args, help string
	// run carries the command out; it returns true to leave the chat.
	run func(s *session, arg string) (quit bool, err error)
}

// commands are the slash commands in the order /help lists them. They are
// set in init because /help refers to the list.
var commands []command

// commandAliases are other spellings of commands.
var commandAliases = map[string]string{"/exit": "/bye", "/quit": "/bye", "/?": "/help"}

func init() {
	commands = []command{
		{"/help", "", "show this help", (*session).cmdHelp},
		{"/bye", "", "leave (also Ctrl+D)", func(*session, string) (bool, error) { return true, nil }},
		{"/clear", "", "start a new conversation (the system prompt and settings stay)", (*session).cmdClear},
		{"/system", "[TEXT]", `set the system prompt; alone, show it; /system "" removes it`, (*session).cmdSystem},
		{"/set", "[KEY VALUE]", "change a setting (/set alone lists them)", (*session).cmdSet},
		{"/show", "", "show the model, template, context use and settings", (*session).cmdShow},
		{"/stats", "[on|off]", "show token counts and speed after each answer", (*session).cmdStats},
		{"/save", "FILE", "save the conversation as JSON", (*session).cmdSave},
		{"/load", "FILE", "continue a conversation saved with /save", (*session).cmdLoad},
		{"/template", "[NAME]", "switch the chat template (none: continue text); alone, list them", (*session).cmdTemplate},
	}
}

// isCommand reports whether a line is a slash command: it starts with "/"
// but not with "//", which sends the rest of the line, from its second
// slash on, to the model (see messageText).
func isCommand(line string) bool {
	return strings.HasPrefix(line, "/") && !strings.HasPrefix(line, "//")
}

// messageText is the message a line that is not a command sends: "//text"
// sends "/text".
func messageText(line string) string {
	if strings.HasPrefix(line, "//") {
		return line[1:]
	}
	return line
}

// command runs a slash command line and reports whether to leave.
func (s *session) command(line string) (quit bool) {
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	name = strings.ToLower(name)
	if alias, ok := commandAliases[name]; ok {
		name = alias
	}
	for _, c := range commands {
		if c.name == name {
			quit, err := c.run(s, strings.TrimSpace(arg))
			if err != nil {
				s.ui.Error("%s: %v", name, err)
			}
			return quit
		}
	}
	s.ui.Error("Unknown command %s. Type /help for the commands; start a message with // to send text that begins with /.", name)
	return false
}

func (s *session) cmdHelp(string) (bool, error) {
	s.ui.Plain("Commands:")
	for _, c := range commands {
		s.ui.Plain("  %-20s %s", strings.TrimSpace(c.name+" "+c.args), c.help)
	}
	s.ui.Plain("\nSettings for /set: %s, threads.", strings.Join(settingNames(), ", "))
	s.ui.Plain(`Type """ to start a message of several lines and """ again to end it.`)
	s.ui.Plain("Up and Down recall earlier input. Ctrl+C stops an answer; Ctrl+D or /bye leaves.")
	return false, nil
}

func (s *session) cmdClear(string) (bool, error) {
	s.chat.Clear()
	s.toldDropped = false
	s.ui.Status("New conversation.")
	return false, nil
}

func (s *session) cmdSystem(arg string) (bool, error) {
	switch {
	case arg == "":
		if s.chat.System == "" {
			s.ui.Status("No system prompt. /system TEXT sets one.")
		} else {
			s.ui.Plain("%s", s.chat.System)
		}
	case arg == `""` || arg == "''":
		s.chat.System = ""
		s.ui.Status("System prompt removed.")
	default:
		s.chat.System = arg
		s.ui.Status("System prompt set.")
	}
	return false, nil
}

func (s *session) cmdSet(arg string) (bool, error) {
	key, value, _ := strings.Cut(arg, " ")
	value = strings.TrimSpace(value)
	if key == "" {
		for _, def := range settingKeys {
			s.ui.Plain("  %-15s %-8s %s", def.key, def.get(&s.chat.Settings), def.help)
		}
		s.ui.Plain("  %-15s %-8d %s", "threads", s.chat.model.Model.Options().Threads, "threads for matrix products; 0 = one per CPU")
		return false, nil
	}
	if value == "" {
		return false, fmt.Errorf("give a value: /set %s VALUE", key)
	}
	if strings.EqualFold(key, "threads") {
		n, err := strconv.Atoi(value)
		if err != nil {
			return false, fmt.Errorf("threads: %q is not a whole number", value)
		}
		if err := model.ValidateThreads(n); err != nil {
			return false, err
		}
		if err := s.chat.SetThreads(n); err != nil {
			return false, err
		}
		s.ui.Status("threads = %d", s.chat.model.Model.Options().Threads)
		return false, nil
	}
	if err := s.chat.Settings.apply(key, value); err != nil {
		return false, err
	}
	def, _ := findSetting(key)
	s.ui.Status("%s = %s", def.key, def.get(&s.chat.Settings))
	return false, nil
}

func (s *session) cmdShow(string) (bool, error) {
	m := s.chat.Model()
	cfg := m.Model.Config
	where := ""
	if m.Path != "" {
		where = " (" + m.Path + ")"
	}
	used, window := s.chat.ContextUsed()
	s.ui.Plain("model     %s%s", m.Name, where)
	s.ui.Plain("          %s, %d layers, hidden %d, %d heads (%d KV), vocabulary %d, trained context %d",
		cfg.Arch, cfg.Layers, cfg.Hidden, cfg.Heads, cfg.KVHeads, cfg.VocabSize, cfg.ContextLength)
	s.ui.Plain("context   %d of %d tokens in use", used, window)
	mode := "chat"
	if s.chat.Completion() {
		mode = "completion: the model continues your text"
	}
	s.ui.Plain("template  %s (%s)", s.chat.Template().Name(), mode)
	if s.chat.System != "" {
		s.ui.Plain("system    %q", s.chat.System)
	}
	var set []string
	for _, def := range settingKeys {
		set = append(set, def.key+" "+def.get(&s.chat.Settings))
	}
	set = append(set, fmt.Sprintf("threads %d", m.Model.Options().Threads))
	s.ui.Plain("settings  %s", strings.Join(set, ", "))
	s.ui.Plain("stats     %s", onOff(s.stats))
	return false, nil
}

func (s *session) cmdStats(arg string) (bool, error) {
	switch strings.ToLower(arg) {
	case "":
		s.stats = !s.stats
	case "on":
		s.stats = true
	case "off":
		s.stats = false
	default:
		return false, fmt.Errorf("want on or off, not %q", arg)
	}
	s.ui.Status("Statistics %s.", onOff(s.stats))
	return false, nil
}

func (s *session) cmdSave(arg string) (bool, error) {
	path, err := fileArg(arg)
	if err != nil {
		return false, err
	}
	if err := s.chat.Save(path); err != nil {
		return false, err
	}
	s.ui.Status("Saved %d messages to %s.", len(s.chat.Messages()), path)
	return false, nil
}

func (s *session) cmdLoad(arg string) (bool, error) {
	path, err := fileArg(arg)
	if err != nil {
		return false, err
	}
	if err := s.chat.Load(path); err != nil {
		return false, err
	}
	s.toldDropped = false
	s.ui.Status("Loaded %d messages from %s.", len(s.chat.Messages()), path)
	return false, nil
}

func (s *session) cmdTemplate(arg string) (bool, error) {
	if arg == "" {
		s.ui.Plain("template %s; known: %s", s.chat.Template().Name(), strings.Join(chat.Names(), ", "))
		return false, nil
	}
	t, err := chat.ByName(arg)
	if err != nil {
		return false, err
	}
	if err := s.chat.SetTemplate(t); err != nil {
		return false, err
	}
	s.sayMode()
	return false, nil
}

// fileArg reads the file name of /save and /load: surrounding quotes are
// removed and a leading ~/ means the home directory.
func fileArg(arg string) (string, error) {
	if len(arg) >= 2 && (arg[0] == '"' || arg[0] == '\'') && arg[len(arg)-1] == arg[0] {
		arg = arg[1 : len(arg)-1]
	}
	if arg == "" {
		return "", fmt.Errorf("give a file name")
	}
	if rest, ok := strings.CutPrefix(arg, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		arg = filepath.Join(home, rest)
	}
	return arg, nil
}

// settingNames lists the keys of /set.
func settingNames() []string {
	names := make([]string, len(settingKeys))
	for i, def := range settingKeys {
		names[i] = def.key
	}
	return names
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// completer completes slash commands, setting names and template names.
func completer() readline.AutoCompleter {
	var items []readline.PrefixCompleterInterface
	for _, c := range commands {
		var sub []readline.PrefixCompleterInterface
		switch c.name {
		case "/set":
			for _, n := range append(settingNames(), "threads") {
				sub = append(sub, readline.PcItem(n))
			}
		case "/template":
			for _, n := range chat.Names() {
				sub = append(sub, readline.PcItem(n))
			}
		case "/stats":
			sub = append(sub, readline.PcItem("on"), readline.PcItem("off"))
		}
		items = append(items, readline.PcItem(c.name, sub...))
	}
	return readline.NewPrefixCompleter(items...)
}
