package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"kfdesk/api"

	"github.com/zalando/go-keyring"
)

// SecretStore keeps AppSecrets and pasted tokens out of the database.
type SecretStore interface {
	Get(key string) (string, error) // ErrSecretNotFound when missing
	Set(key, secret string) error
	Delete(key string) error
	// Where says, for people, where secrets are kept.
	Where() string
}

// ErrSecretNotFound: no secret under that key.
var ErrSecretNotFound error = api.Describe(nil, "未找到密钥。", "Secret not found.")

const keyringService = "kfdesk"

// OpenSecrets uses the OS credential store when it works, else a file in dataDir that
// only the user can read; fallbackReason then says so (Chinese and English).
// KFDESK_SECRETS=file forces the file (tests, CI, portable installs): tests must never
// touch a real keyring.
func OpenSecrets(dataDir string) (store SecretStore, fallbackReason string) {
	return openSecrets(dataDir, probeKeyring, 2*time.Second)
}

func openSecrets(dataDir string, probe func() error, timeout time.Duration) (SecretStore, string) {
	file := &fileSecrets{path: filepath.Join(dataDir, "secrets.json")}
	if os.Getenv("KFDESK_SECRETS") == "file" {
		return file, ""
	}
	if err := withTimeout(probe, timeout); err != nil {
		return file, fmt.Sprintf("系统密钥库不可用（%v），密钥保存在只有您能读取的文件 %s 中。 / The system credential store is unavailable (%v); secrets are kept in the file %s, readable only by you.",
			err, file.path, err, file.path)
	}
	return keyringSecrets{}, ""
}

// withTimeout runs probe in a goroutine: a Secret Service that never answers (a D-Bus
// session with no keyring daemon) would otherwise hang start-up. The goroutine is
// abandoned then; it ends whenever D-Bus gives up.
func withTimeout(probe func() error, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- probe() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("no answer within %v", timeout)
	}
}

// probeKeyring writes, reads back and deletes a probe entry.
func probeKeyring() error {
	const k = "probe"
	if err := keyring.Set(keyringService, k, "ok"); err != nil {
		return err
	}
	v, err := keyring.Get(keyringService, k)
	_ = keyring.Delete(keyringService, k)
	if err == nil && v != "ok" {
		err = errors.New("read back a different value")
	}
	return err
}

type keyringSecrets struct{}

func (keyringSecrets) Get(key string) (string, error) {
	s, err := keyring.Get(keyringService, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", ErrSecretNotFound
	}
	return s, err
}

func (keyringSecrets) Set(key, secret string) error { return keyring.Set(keyringService, key, secret) }

func (keyringSecrets) Delete(key string) error {
	err := keyring.Delete(keyringService, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrSecretNotFound
	}
	return err
}

func (keyringSecrets) Where() string {
	switch runtime.GOOS {
	case "windows":
		return "Windows Credential Manager / Windows 凭据管理器"
	case "darwin":
		return "macOS Keychain / 钥匙串"
	}
	return "Secret Service (GNOME Keyring / KWallet)"
}

// fileSecrets is a JSON map in a 0600 file, written atomically (temp file + rename) so
// a crash never leaves half a file. The mutex covers this process only; two processes
// saving secrets at the same instant could lose one update (rare: secrets change when
// someone edits an account).
type fileSecrets struct {
	path string
	mu   sync.Mutex
}

func (f *fileSecrets) Where() string {
	return "file " + f.path + " (readable only by you / 仅您可读)"
}

func (f *fileSecrets) load() (map[string]string, error) {
	m := map[string]string{}
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s is damaged: %v", f.path, err) // never echo the content
	}
	return m, nil
}

func (f *fileSecrets) save(m map[string]string) error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".secrets-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.path)
}

func (f *fileSecrets) Get(key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return "", err
	}
	s, ok := m[key]
	if !ok {
		return "", ErrSecretNotFound
	}
	return s, nil
}

func (f *fileSecrets) Set(key, secret string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return err
	}
	m[key] = secret
	return f.save(m)
}

func (f *fileSecrets) Delete(key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return err
	}
	if _, ok := m[key]; !ok {
		return ErrSecretNotFound
	}
	delete(m, key)
	return f.save(m)
}
