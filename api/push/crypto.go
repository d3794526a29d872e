package push

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"

	"kfdesk/api"
)

// Config is one account's 服务器配置 as entered in the console: Token, the
// EncodingAESKey (empty for a plaintext-only account such as a 测试号) and the
// AppID that every ciphertext must end with (for a third-party platform, the
// component appid).
// https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/message-push.html
type Config struct {
	Token          string
	EncodingAESKey string
	AppID          string

	// RequireEncryption refuses plaintext pushes (ErrPlaintext) once the console
	// is set to 安全模式 or 兼容模式. In plaintext mode nothing signs the body
	// (`signature` covers only token, timestamp and nonce), so whoever sees one
	// push URL could post any body with it until the replay window closes. Off,
	// a plaintext push is accepted: the console's mode change takes effect at once.
	RequireEncryption bool
}

// Verifier checks and opens one account's pushes and seals its replies. It is
// safe for concurrent use.
type Verifier struct {
	token      string
	appID      string
	encryptAll bool
	key        []byte       // 32 bytes; nil when the account is plaintext-only
	block      cipher.Block // AES-256 of key
}

// New validates cfg and decodes its EncodingAESKey once. The errors are
// api.InputError naming the field, for the setup screen and `serve init`.
func New(cfg Config) (*Verifier, error) {
	if !validToken(cfg.Token) {
		return nil, &api.InputError{Field: "token",
			Chinese: "Token 应为 3 到 32 个英文字母或数字，与公众平台「服务器配置」中的一致。",
			English: "The Token must be 3 to 32 letters or digits, the same as in the platform's server configuration."}
	}
	v := &Verifier{token: cfg.Token, appID: cfg.AppID, encryptAll: cfg.RequireEncryption}
	if cfg.EncodingAESKey == "" {
		if cfg.RequireEncryption {
			return nil, &api.InputError{Field: "encoding_aes_key", Chinese: ErrNoKey.Chinese, English: ErrNoKey.English}
		}
		return v, nil
	}
	key, err := DecodeAESKey(cfg.EncodingAESKey)
	if err != nil {
		return nil, &api.InputError{Field: "encoding_aes_key", Chinese: ErrAESKey.Chinese, English: ErrAESKey.English}
	}
	if cfg.AppID == "" {
		return nil, &api.InputError{Field: "appid",
			Chinese: "使用 EncodingAESKey 时必须填写 AppID：每条加密推送都以 AppID 结尾，用它核对推送是发给本账号的。",
			English: "An AppID is needed with an EncodingAESKey: every encrypted push ends with it, which proves the push is for this account."}
	}
	v.key = key
	v.block, _ = aes.NewCipher(key) // 32 bytes: cannot fail
	return v, nil
}

// validToken: the console accepts 3–32 English letters or digits.
func validToken(t string) bool {
	if len(t) < 3 || len(t) > 32 {
		return false
	}
	for _, c := range t {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// DecodeAESKey turns the console's 43-character EncodingAESKey into the 32-byte
// AES key: Base64_Decode(EncodingAESKey + "=").
//
// It decodes as WeChat's own samples do, NOT strictly: the official sample key
// "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" ends in a character whose low
// bits are not zero, which base64.StdEncoding.Strict() refuses
// (TestDecodeAESKeyOfficialSampleFailsStrict).
// https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md
func DecodeAESKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != 43 {
		return nil, ErrAESKey.with("%d characters, want 43", len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		// StdEncoding skips '\r' and '\n', so a key with a line break decodes short.
		return nil, ErrAESKey.with("not base64 of 32 bytes")
	}
	return key, nil
}

// Signature is WeChat's signature: the lower-case hex SHA-1 of the parts sorted
// bytewise and joined. Over (token, timestamp, nonce) it is the GET and plaintext
// `signature`; over (token, timestamp, nonce, Encrypt) it is `msg_signature` and a
// reply's MsgSignature.
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
func Signature(parts ...string) string {
	s := append([]string(nil), parts...)
	sort.Strings(s) // bytewise, as the docs' samples: "+" sorts before digits
	sum := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// equal compares a received signature with ours in constant time.
func equal(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// VerifyURL checks the GET verification (and every plaintext POST's) signature =
// sha1(sort(token, timestamp, nonce)), in constant time.
func (v *Verifier) VerifyURL(signature, timestamp, nonce string) bool {
	return equal(signature, Signature(v.token, timestamp, nonce))
}

// verifyMsg checks msg_signature = sha1(sort(token, timestamp, nonce, Encrypt)).
func (v *Verifier) verifyMsg(msgSignature, timestamp, nonce, encrypt string) bool {
	return equal(msgSignature, Signature(v.token, timestamp, nonce, encrypt))
}

// blockSize is WXBizMsgCrypt's PKCS#7 block: 32 bytes, not AES's 16 (the official
// PKCS7Encoder uses BLOCK_SIZE = 32).
const blockSize = 32

// Encrypt seals msg as WXBizMsgCrypt does and returns the base64 that goes into
// Encrypt: AES-256-CBC, IV = key[:16], of random(16) ‖ len(msg) as 4 bytes
// big-endian ‖ msg ‖ appid, PKCS#7-padded to 32 bytes. rand supplies the 16 random
// bytes (crypto/rand.Reader in the product, a fixed reader in tests).
func (v *Verifier) Encrypt(rand io.Reader, msg []byte) (string, error) {
	if v.block == nil {
		return "", ErrNoKey
	}
	n := 16 + 4 + len(msg) + len(v.appID)
	pad := blockSize - n%blockSize
	buf := make([]byte, n+pad)
	if _, err := io.ReadFull(rand, buf[:16]); err != nil {
		return "", fmt.Errorf("%w: %v", errRandom, err)
	}
	binary.BigEndian.PutUint32(buf[16:20], uint32(len(msg)))
	copy(buf[20:], msg)
	copy(buf[20+len(msg):], v.appID)
	for i := n; i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(v.block, v.key[:16]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// Decrypt opens an Encrypt value and returns the message, after checking the
// padding, the length field and that the trailing appid is ours. It never trims
// the message: the official plaintexts carry "\n" between tags.
//
// Padding errors are distinguishable from appid errors, which would be a padding
// oracle if an attacker could reach Decrypt; Open reaches it only after the
// msg_signature (keyed by the Token) has been checked.
func (v *Verifier) Decrypt(encrypt string) ([]byte, error) {
	if v.block == nil {
		return nil, ErrNoKey
	}
	buf, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, ErrBase64.with("%v", err)
	}
	if len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return nil, ErrPadding.with("%d bytes is not whole AES blocks", len(buf))
	}
	cipher.NewCBCDecrypter(v.block, v.key[:16]).CryptBlocks(buf, buf)
	pad := int(buf[len(buf)-1])
	if pad < 1 || pad > blockSize || pad > len(buf) {
		return nil, ErrPadding.with("pad byte %d", pad)
	}
	for _, b := range buf[len(buf)-pad:] {
		if int(b) != pad {
			return nil, ErrPadding.with("pad bytes differ")
		}
	}
	buf = buf[:len(buf)-pad]
	if len(buf) < 20 {
		return nil, ErrLength.with("%d bytes after the padding", len(buf))
	}
	n := binary.BigEndian.Uint32(buf[16:20])
	if uint64(n) > uint64(len(buf)-20) {
		return nil, ErrLength.with("length field %d, %d bytes follow", n, len(buf)-20)
	}
	msg, appID := buf[20:20+n], buf[20+n:]
	if !equal(string(appID), v.appID) {
		// Not echoed: the foreign appid is not ours to log.
		return nil, ErrAppID.with("%d-byte appid", len(appID))
	}
	return msg, nil
}
