package discordtest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// Command is an application command as the fake stored it.
type Command struct {
	ID                       string
	ApplicationID            string
	GuildID                  string // empty for global commands
	Version                  string
	Type                     int // 1 CHAT_INPUT, 2 USER, 3 MESSAGE
	Name                     string
	NameLocalizations        map[string]string
	Description              string
	DescriptionLocalizations map[string]string
	Options                  []CommandOption
	// DefaultMemberPermissions is nil when everyone may use the command;
	// 0 means administrators only.
	DefaultMemberPermissions *int64
	DMPermission             *bool
	Contexts                 []int
	IntegrationTypes         []int
	NSFW                     bool
}

// CommandOption is an option, sub-command or sub-command group.
type CommandOption struct {
	Type                     int
	Name                     string
	NameLocalizations        map[string]string
	Description              string
	DescriptionLocalizations map[string]string
	Required                 bool
	Autocomplete             bool
	Choices                  []CommandChoice
	Options                  []CommandOption
	ChannelTypes             []int
	MinValue, MaxValue       *float64
	MinLength, MaxLength     *int
}

// CommandChoice is a fixed choice of an option; Value is a string or a float64.
type CommandChoice struct {
	Name              string
	NameLocalizations map[string]string
	Value             any
}

// Option and command types (interactions/application-commands).
const (
	CommandTypeChatInput = 1
	CommandTypeUser      = 2
	CommandTypeMessage   = 3

	OptionSubCommand      = 1
	OptionSubCommandGroup = 2
	OptionString          = 3
	OptionInteger         = 4
	OptionBoolean         = 5
	OptionUser            = 6
	OptionChannel         = 7
	OptionRole            = 8
	OptionMentionable     = 9
	OptionNumber          = 10
	OptionAttachment      = 11

	CodeUnknownApplicationCommand = 10063
)

// chatInputNamePattern is the documented regex for CHAT_INPUT command and
// option names; Go's \p{Devanagari} and \p{Thai} are Discord's \p{sc=Deva}
// and \p{sc=Thai}.
var chatInputNamePattern = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

type commandWire struct {
	ID                       string            `json:"id"`
	Type                     *int              `json:"type"`
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations"`
	Options                  []optionWire      `json:"options"`
	DefaultMemberPermissions json.RawMessage   `json:"default_member_permissions"`
	DMPermission             *bool             `json:"dm_permission"`
	Contexts                 *[]int            `json:"contexts"`
	IntegrationTypes         *[]int            `json:"integration_types"`
	NSFW                     *bool             `json:"nsfw"`
}

type optionWire struct {
	Type                     int               `json:"type"`
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations"`
	Required                 bool              `json:"required"`
	Autocomplete             bool              `json:"autocomplete"`
	Choices                  []choiceWire      `json:"choices"`
	Options                  []optionWire      `json:"options"`
	ChannelTypes             []int             `json:"channel_types"`
	MinValue                 *float64          `json:"min_value"`
	MaxValue                 *float64          `json:"max_value"`
	MinLength                *int              `json:"min_length"`
	MaxLength                *int              `json:"max_length"`
}

type choiceWire struct {
	Name              string            `json:"name"`
	NameLocalizations map[string]string `json:"name_localizations"`
	Value             json.RawMessage   `json:"value"`
}

// decodeCommands parses a bulk-overwrite body and validates every command
// against Discord's rules, reporting all problems in one 50035.
func decodeCommands(body []byte) ([]*Command, *apiError) {
	var wires []commandWire
	if err := json.Unmarshal(body, &wires); err != nil {
		return nil, jsonDecodeError(err)
	}
	var f formErrors
	cmds := make([]*Command, 0, len(wires))
	counts := map[int]int{}
	seen := map[string]bool{}
	for i, w := range wires {
		c := validateCommand([]string{strconv.Itoa(i)}, w, &f)
		cmds = append(cmds, c)
		counts[c.Type]++
		key := strconv.Itoa(c.Type) + "/" + c.Name
		if seen[key] {
			f.add(nil, "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		}
		seen[key] = true
	}
	if counts[CommandTypeChatInput] > MaxChatInputCommands {
		f.maxLength(nil, MaxChatInputCommands)
	}
	if counts[CommandTypeUser] > MaxUserCommands || counts[CommandTypeMessage] > MaxMessageCommands {
		f.add(nil, "APPLICATION_COMMANDS_TOO_MANY", "Too many USER or MESSAGE commands")
	}
	if err := f.apiError(); err != nil {
		return nil, err
	}
	return cmds, nil
}

func decodeCommand(body []byte) (*Command, *apiError) {
	var w commandWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, jsonDecodeError(err)
	}
	var f formErrors
	c := validateCommand(nil, w, &f)
	if err := f.apiError(); err != nil {
		return nil, err
	}
	return c, nil
}

func validateCommand(path []string, w commandWire, f *formErrors) *Command {
	c := &Command{
		Type: CommandTypeChatInput, Name: w.Name, NameLocalizations: w.NameLocalizations,
		Description: w.Description, DescriptionLocalizations: w.DescriptionLocalizations,
		DMPermission: w.DMPermission,
	}
	if w.Type != nil {
		c.Type = *w.Type
	}
	if w.NSFW != nil {
		c.NSFW = *w.NSFW
	}
	switch c.Type {
	case CommandTypeChatInput:
		validateChatInputName(pathWith(path, "name"), w.Name, f)
		for loc, name := range w.NameLocalizations {
			validateChatInputName(pathWith(path, "name_localizations", loc), name, f)
		}
		validateDescription(pathWith(path, "description"), w.Description, f)
		for loc, d := range w.DescriptionLocalizations {
			validateDescription(pathWith(path, "description_localizations", loc), d, f)
		}
		c.Options = validateOptions(pathWith(path, "options"), w.Options, 0, f)
	case CommandTypeUser, CommandTypeMessage:
		if n := utf8.RuneCountInString(w.Name); n < 1 || n > MaxCommandNameLength {
			f.badLength(pathWith(path, "name"), 1, MaxCommandNameLength)
		}
		if w.Description != "" {
			f.add(pathWith(path, "description"), "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
				"Context menu commands cannot have description")
		}
		if len(w.Options) > 0 {
			f.add(pathWith(path, "options"), "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS",
				"Context menu commands cannot have options")
		}
	default:
		f.add(pathWith(path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
	}
	if !isJSONNull(w.DefaultMemberPermissions) {
		var bits string
		if err := json.Unmarshal(w.DefaultMemberPermissions, &bits); err != nil {
			f.add(pathWith(path, "default_member_permissions"), "MODEL_TYPE_CONVERT",
				"Could not interpret "+string(w.DefaultMemberPermissions)+" as a permission bitset string.")
		} else if v, err := strconv.ParseInt(bits, 10, 64); err != nil || v < 0 {
			f.add(pathWith(path, "default_member_permissions"), "PERMISSIONS_INVALID",
				"Invalid permission bitset "+strconv.Quote(bits)+".")
		} else {
			c.DefaultMemberPermissions = &v
		}
	}
	if w.Contexts != nil {
		c.Contexts = *w.Contexts
		for i, v := range c.Contexts {
			if v < 0 || v > 2 {
				f.add(pathWith(path, "contexts", strconv.Itoa(i)), "BASE_TYPE_CHOICES", "Value must be one of {0, 1, 2}.")
			}
		}
	}
	if w.IntegrationTypes != nil {
		c.IntegrationTypes = *w.IntegrationTypes
		for i, v := range c.IntegrationTypes {
			if v != 0 && v != 1 {
				f.add(pathWith(path, "integration_types", strconv.Itoa(i)), "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.")
			}
		}
	}
	if size := commandSize(w); size > MaxCommandSize {
		f.add(path, "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size ("+strconv.Itoa(MaxCommandSize)+")")
	}
	return c
}

func validateChatInputName(path []string, name string, f *formErrors) {
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxCommandNameLength {
		f.badLength(path, 1, MaxCommandNameLength)
		return
	}
	if !chatInputNamePattern.MatchString(name) {
		f.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		return
	}
	for _, r := range name {
		if unicode.ToLower(r) != r {
			f.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
			return
		}
	}
}

func validateDescription(path []string, d string, f *formErrors) {
	if n := utf8.RuneCountInString(d); n < 1 || n > MaxCommandDescriptionLength {
		f.badLength(path, 1, MaxCommandDescriptionLength)
	}
}

// validateOptions checks one level of options; parentType is 0 for the
// command's own options, else the sub-command or group they belong to.
func validateOptions(path []string, opts []optionWire, parentType int, f *formErrors) []CommandOption {
	if len(opts) > MaxCommandOptions {
		f.maxLength(path, MaxCommandOptions)
	}
	out := make([]CommandOption, 0, len(opts))
	names := map[string]bool{}
	sawOptional, sawSub, sawPlain := false, false, false
	for i, o := range opts {
		p := pathWith(path, strconv.Itoa(i))
		validateChatInputName(pathWith(p, "name"), o.Name, f)
		for loc, name := range o.NameLocalizations {
			validateChatInputName(pathWith(p, "name_localizations", loc), name, f)
		}
		validateDescription(pathWith(p, "description"), o.Description, f)
		if names[o.Name] {
			f.add(pathWith(p, "name"), "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Option names must be unique")
		}
		names[o.Name] = true
		if o.Type < OptionSubCommand || o.Type > OptionAttachment {
			f.add(pathWith(p, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.")
		}
		isSub := o.Type == OptionSubCommand || o.Type == OptionSubCommandGroup
		if isSub {
			sawSub = true
		} else {
			sawPlain = true
		}
		switch {
		case parentType == OptionSubCommandGroup && o.Type != OptionSubCommand:
			f.add(pathWith(p, "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-command groups may only contain sub-commands")
		case parentType == OptionSubCommand && isSub:
			f.add(pathWith(p, "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-commands cannot contain sub-commands or groups")
		}
		if !isSub {
			if o.Required && sawOptional {
				f.add(path, "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
			}
			if !o.Required {
				sawOptional = true
			}
		}
		co := CommandOption{
			Type: o.Type, Name: o.Name, NameLocalizations: o.NameLocalizations, Description: o.Description,
			DescriptionLocalizations: o.DescriptionLocalizations, Required: o.Required, Autocomplete: o.Autocomplete,
			ChannelTypes: o.ChannelTypes, MinValue: o.MinValue, MaxValue: o.MaxValue, MinLength: o.MinLength, MaxLength: o.MaxLength,
		}
		co.Choices = validateChoices(pathWith(p, "choices"), o, f)
		if o.Autocomplete && !slices.Contains([]int{OptionString, OptionInteger, OptionNumber}, o.Type) {
			f.add(pathWith(p, "autocomplete"), "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_INVALID", "Autocomplete is only for string, integer and number options")
		}
		if o.Autocomplete && len(o.Choices) > 0 {
			f.add(pathWith(p, "autocomplete"), "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES", "Autocomplete and choices are mutually exclusive")
		}
		if len(o.ChannelTypes) > 0 && o.Type != OptionChannel {
			f.add(pathWith(p, "channel_types"), "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_INVALID", "channel_types is only for channel options")
		}
		if (o.MinValue != nil || o.MaxValue != nil) && o.Type != OptionInteger && o.Type != OptionNumber {
			f.add(pathWith(p, "min_value"), "APPLICATION_COMMAND_OPTION_VALUE_RANGE_INVALID", "min_value/max_value are only for integer and number options")
		}
		if o.MinValue != nil && o.MaxValue != nil && *o.MinValue > *o.MaxValue {
			f.add(pathWith(p, "min_value"), "APPLICATION_COMMAND_OPTION_VALUE_RANGE_INVALID", "min_value must not exceed max_value")
		}
		if o.MinLength != nil || o.MaxLength != nil {
			if o.Type != OptionString {
				f.add(pathWith(p, "min_length"), "APPLICATION_COMMAND_OPTION_LENGTH_INVALID", "min_length/max_length are only for string options")
			}
			if o.MinLength != nil && (*o.MinLength < 0 || *o.MinLength > MaxOptionStringLength) {
				f.add(pathWith(p, "min_length"), "NUMBER_TYPE_MAX", "int value should be between 0 and 6000.")
			}
			if o.MaxLength != nil && (*o.MaxLength < 1 || *o.MaxLength > MaxOptionStringLength) {
				f.add(pathWith(p, "max_length"), "NUMBER_TYPE_MAX", "int value should be between 1 and 6000.")
			}
		}
		if isSub {
			co.Options = validateOptions(pathWith(p, "options"), o.Options, o.Type, f)
		} else if len(o.Options) > 0 {
			f.add(pathWith(p, "options"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Only sub-commands and groups have options")
		}
		out = append(out, co)
	}
	if sawSub && sawPlain {
		f.add(path, "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-commands and groups cannot be mixed with other options")
	}
	return out
}

func validateChoices(path []string, o optionWire, f *formErrors) []CommandChoice {
	if len(o.Choices) == 0 {
		return nil
	}
	if !slices.Contains([]int{OptionString, OptionInteger, OptionNumber}, o.Type) {
		f.add(path, "APPLICATION_COMMAND_OPTION_CHOICES_INVALID", "Choices are only for string, integer and number options")
		return nil
	}
	if len(o.Choices) > MaxCommandChoices {
		f.maxLength(path, MaxCommandChoices)
	}
	out := make([]CommandChoice, 0, len(o.Choices))
	for i, ch := range o.Choices {
		p := pathWith(path, strconv.Itoa(i))
		if n := utf8.RuneCountInString(ch.Name); n < 1 || n > MaxChoiceNameLength {
			f.badLength(pathWith(p, "name"), 1, MaxChoiceNameLength)
		}
		v, ok := choiceValue(ch.Value, o.Type)
		if !ok {
			f.add(pathWith(p, "value"), "APPLICATION_COMMAND_OPTION_CHOICE_VALUE_INVALID", "Choice value does not match the option type")
		}
		if s, isString := v.(string); isString && utf8.RuneCountInString(s) > MaxChoiceStringValueLength {
			f.maxLength(pathWith(p, "value"), MaxChoiceStringValueLength)
		}
		out = append(out, CommandChoice{Name: ch.Name, NameLocalizations: ch.NameLocalizations, Value: v})
	}
	return out
}

func choiceValue(raw json.RawMessage, optionType int) (any, bool) {
	switch optionType {
	case OptionString:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false
		}
		return s, true
	case OptionInteger:
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil || v != float64(int64(v)) || v > maxSafeJSONInteger || v < -maxSafeJSONInteger {
			return nil, false
		}
		return v, true
	case OptionNumber:
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, false
		}
		return v, true
	}
	return nil, false
}

// commandSize counts what the 8000-character limit counts: names,
// descriptions and choice values, each at its longest localization.
func commandSize(w commandWire) int {
	n := longest(w.Name, w.NameLocalizations) + longest(w.Description, w.DescriptionLocalizations)
	var walk func([]optionWire)
	walk = func(opts []optionWire) {
		for _, o := range opts {
			n += longest(o.Name, o.NameLocalizations) + longest(o.Description, o.DescriptionLocalizations)
			for _, ch := range o.Choices {
				n += longest(ch.Name, ch.NameLocalizations)
				var s string
				if json.Unmarshal(ch.Value, &s) == nil {
					n += utf8.RuneCountInString(s)
				} else {
					n += utf8.RuneCount(ch.Value)
				}
			}
			walk(o.Options)
		}
	}
	walk(w.Options)
	return n
}

func longest(def string, locs map[string]string) int {
	n := utf8.RuneCountInString(def)
	for _, v := range locs {
		n = max(n, utf8.RuneCountInString(v))
	}
	return n
}

// --- handlers ----------------------------------------------------------------

// commandScopeLocked resolves the scope of a commands route: nil guild for
// global commands. Another application's id, or a guild the bot is not in
// (or was invited without applications.commands), is 403 Missing Access.
func (s *Server) commandScopeLocked(q *restRequest) (*guild, *apiError) {
	if q.param(1) != s.appID {
		return nil, errMissingAccess()
	}
	if q.param(2) != "guilds" {
		return nil, nil
	}
	g, ok := s.guilds[q.param(3)]
	if !ok || g.left {
		return nil, errMissingAccess()
	}
	return g, nil
}

func (s *Server) commandsLocked(g *guild) *[]*Command {
	if g == nil {
		return &s.globalCommands
	}
	return &g.commands
}

func (s *Server) listCommands(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.commandScopeLocked(q)
	if err != nil {
		return 0, nil, err
	}
	out := []any{}
	for _, c := range *s.commandsLocked(g) {
		out = append(out, commandJSON(c))
	}
	return http.StatusOK, out, nil
}

func (s *Server) putCommands(q *restRequest) (int, any, *apiError) {
	cmds, decodeErr := decodeCommands(q.body)
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.commandScopeLocked(q)
	if err != nil {
		return 0, nil, err
	}
	if decodeErr != nil {
		return 0, nil, decodeErr
	}
	existing := s.commandsLocked(g)
	created := 0
	for _, c := range cmds {
		if findCommand(*existing, c.Type, c.Name) == nil {
			created++
		}
	}
	if err := s.takeDailyCreatesLocked(g, created, q.now); err != nil {
		return 0, nil, err
	}
	out := []any{}
	for _, c := range cmds {
		s.completeCommandLocked(c, g, findCommand(*existing, c.Type, c.Name))
		out = append(out, commandJSON(c))
	}
	*existing = cmds
	return http.StatusOK, out, nil
}

func (s *Server) postCommand(q *restRequest) (int, any, *apiError) {
	c, decodeErr := decodeCommand(q.body)
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.commandScopeLocked(q)
	if err != nil {
		return 0, nil, err
	}
	if decodeErr != nil {
		return 0, nil, decodeErr
	}
	existing := s.commandsLocked(g)
	prev := findCommand(*existing, c.Type, c.Name)
	if prev == nil {
		if err := s.takeDailyCreatesLocked(g, 1, q.now); err != nil {
			return 0, nil, err
		}
	}
	s.completeCommandLocked(c, g, prev)
	if prev != nil {
		*existing = slices.DeleteFunc(*existing, func(x *Command) bool { return x == prev })
	}
	*existing = append(*existing, c)
	status := http.StatusCreated
	if prev != nil {
		status = http.StatusOK
	}
	return status, commandJSON(c), nil
}

func (s *Server) getCommand(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.commandScopeLocked(q)
	if err != nil {
		return 0, nil, err
	}
	id := q.segs[len(q.segs)-1]
	for _, c := range *s.commandsLocked(g) {
		if c.ID == id {
			return http.StatusOK, commandJSON(c), nil
		}
	}
	return 0, nil, newAPIError(http.StatusNotFound, CodeUnknownApplicationCommand, "Unknown application command")
}

func (s *Server) deleteCommand(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.commandScopeLocked(q)
	if err != nil {
		return 0, nil, err
	}
	id := q.segs[len(q.segs)-1]
	list := s.commandsLocked(g)
	before := len(*list)
	*list = slices.DeleteFunc(*list, func(c *Command) bool { return c.ID == id })
	if len(*list) == before {
		return 0, nil, newAPIError(http.StatusNotFound, CodeUnknownApplicationCommand, "Unknown application command")
	}
	return http.StatusNoContent, nil, nil
}

func findCommand(list []*Command, typ int, name string) *Command {
	for _, c := range list {
		if c.Type == typ && c.Name == name {
			return c
		}
	}
	return nil
}

// completeCommandLocked fills server-side fields; an overwritten command
// keeps its id, as on Discord.
func (s *Server) completeCommandLocked(c *Command, g *guild, prev *Command) {
	c.ApplicationID = s.appID
	if g != nil {
		c.GuildID = g.id
		c.DMPermission = nil
	}
	if prev != nil {
		c.ID = prev.ID
	} else {
		c.ID = s.newIDLocked()
	}
	c.Version = s.newIDLocked()
}

func (s *Server) takeDailyCreatesLocked(g *guild, n int, now time.Time) *apiError {
	if n == 0 {
		return nil
	}
	key := "global"
	if g != nil {
		key = g.id
	}
	log := s.dailyCreates[key]
	cut := 0
	for cut < len(log) && now.Sub(log[cut]) >= 24*time.Hour {
		cut++
	}
	log = log[cut:]
	if len(log)+n > DailyCommandCreatesPerGuild {
		s.dailyCreates[key] = log
		return newAPIError(http.StatusTooManyRequests, CodeMaxDailyCommandCreates,
			"Max number of daily application command creates has been reached (200)")
	}
	for range n {
		log = append(log, now)
	}
	s.dailyCreates[key] = log
	return nil
}

// Commands returns the registered commands: guildID "" for global ones.
func (s *Server) Commands(guildID string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*Command
	if guildID == "" {
		list = s.globalCommands
	} else if g, ok := s.guilds[guildID]; ok {
		list = g.commands
	}
	out := make([]Command, 0, len(list))
	for _, c := range list {
		out = append(out, *c)
	}
	return out
}

// lookupCommandLocked finds the command a user in guild g would invoke by
// name: guild commands shadow global ones.
func (s *Server) lookupCommandLocked(g *guild, name string) *Command {
	if g != nil {
		if c := findCommand(g.commands, CommandTypeChatInput, name); c != nil {
			return c
		}
	}
	return findCommand(s.globalCommands, CommandTypeChatInput, name)
}

func commandJSON(c *Command) map[string]any {
	out := map[string]any{
		"id": c.ID, "application_id": c.ApplicationID, "version": c.Version, "type": c.Type,
		"name": c.Name, "description": c.Description, "nsfw": c.NSFW,
		"name_localizations": nilIfEmpty(c.NameLocalizations), "description_localizations": nilIfEmpty(c.DescriptionLocalizations),
		"default_member_permissions": nil, "options": optionsJSON(c.Options),
	}
	if c.DefaultMemberPermissions != nil {
		out["default_member_permissions"] = strconv.FormatInt(*c.DefaultMemberPermissions, 10)
	}
	if c.GuildID != "" {
		out["guild_id"] = c.GuildID
	} else {
		dm := c.DMPermission == nil || *c.DMPermission
		out["dm_permission"] = dm
	}
	if c.Contexts != nil {
		out["contexts"] = c.Contexts
	}
	if c.IntegrationTypes != nil {
		out["integration_types"] = c.IntegrationTypes
	}
	return out
}

func nilIfEmpty(m map[string]string) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func optionsJSON(opts []CommandOption) []any {
	if len(opts) == 0 {
		return nil
	}
	out := make([]any, 0, len(opts))
	for _, o := range opts {
		m := map[string]any{"type": o.Type, "name": o.Name, "description": o.Description}
		if o.Required {
			m["required"] = true
		}
		if o.Autocomplete {
			m["autocomplete"] = true
		}
		if len(o.Choices) > 0 {
			choices := make([]any, 0, len(o.Choices))
			for _, ch := range o.Choices {
				choices = append(choices, map[string]any{"name": ch.Name, "value": ch.Value})
			}
			m["choices"] = choices
		}
		if len(o.Options) > 0 {
			m["options"] = optionsJSON(o.Options)
		}
		if len(o.ChannelTypes) > 0 {
			m["channel_types"] = o.ChannelTypes
		}
		if o.MinValue != nil {
			m["min_value"] = *o.MinValue
		}
		if o.MaxValue != nil {
			m["max_value"] = *o.MaxValue
		}
		if o.MinLength != nil {
			m["min_length"] = *o.MinLength
		}
		if o.MaxLength != nil {
			m["max_length"] = *o.MaxLength
		}
		out = append(out, m)
	}
	return out
}
