package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"fyne.io/fyne/v2/lang"
)

// Translations are keyed by the English text; English needs no file of its own.
// They are not registered with Fyne's lang: T reads them, and Fyne's own texts
// (dialog buttons, weekdays) come from its built-in zh_Hans. (go-i18n also refuses
// a file with keys such as "id" and "Description", which it reserves.)
//
//go:embed translations
var translationFS embed.FS

var (
	langMu   sync.RWMutex
	zhText   map[string]string
	useZH    bool
	langOnce sync.Once
)

// loadTranslations reads every translations/*.zh_Hans.json (one file per screen or
// feature, so screens can be added without touching each other's files).
func loadTranslations() {
	zhText = map[string]string{}
	files, err := fs.Glob(translationFS, "translations/*.zh_Hans.json")
	if err != nil || len(files) == 0 {
		panic("no embedded translations") // cannot happen in a built binary
	}
	for _, name := range files {
		b, _ := translationFS.ReadFile(name)
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("%s: %v", name, err))
		}
		for k, v := range m {
			zhText[k] = v
		}
	}
}

// SetLanguage chooses the UI language: "zh", "en", or "" to follow the system locale.
func SetLanguage(code string) {
	langOnce.Do(loadTranslations)
	if code == "" {
		code = systemLanguage()
	}
	langMu.Lock()
	useZH = code == "zh"
	langMu.Unlock()
}

// Chinese reports whether the UI currently speaks Chinese.
func Chinese() bool {
	langMu.RLock()
	defer langMu.RUnlock()
	return useZH
}

func systemLanguage() string {
	if strings.HasPrefix(string(lang.SystemLocale()), "zh") {
		return "zh"
	}
	return "en"
}

// T translates an English UI text (a fmt format when args are given).
func T(en string, args ...any) string {
	langOnce.Do(loadTranslations)
	s := en
	if Chinese() {
		if zh, ok := zhText[en]; ok {
			s = zh
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Bilingual picks the Chinese or English variant of a text that comes in both
// (errors from api and storage explain themselves in both languages).
func Bilingual(zh, en string) string {
	if Chinese() {
		return zh
	}
	return en
}
